using BpfSim.Core.Bpf;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Bench.Scenarios;

/// <summary>
/// The whole-scenario benchmarks' dumbbell (docs/performance.md "Whole-scenario runs"): 100 Mbit/s bottleneck with an
/// 8 ms one-way delay and a 166-packet FIFO, 1 ms access links, <c>flows</c> flows of <c>cc</c> starting at random
/// over the first second so their slow starts do not synchronise.
/// </summary>
internal static class BenchDumbbell
{
    public static (Network Net, Dumbbell Bell, TcpStack Stack) Build(BpfSystem bpf, int flows, string cc)
    {
        var type = (TcpCongestionOpsType)bpf.FindStructOpsType(TcpCongestionOpsType.TypeName)!;
        var net = new Network(bpf.Simulator, seed: 1, packetCapacity: 1 << 16);
        var bell = new Dumbbell(net, new DumbbellOptions
        {
            BottleneckRateBps = 100_000_000,
            BottleneckDelay = SimTime.FromMilliseconds(8),
            AccessDelay = SimTime.FromMilliseconds(1),
            BottleneckQueue = _ => new DropTailQueue(166),
        });
        var stack = new TcpStack(net, type.Registry, bpf: bpf);
        var random = SimRandom.For(1, "starts");
        for (int i = 0; i < flows; i++)
        {
            stack.Open((s, r) => bell.AddFlow(s, r), cc, SimTime.FromMicroseconds(random.Next(1_000_000)), out _).ThrowIfFailed();
        }
        return (net, bell, stack);
    }
}
