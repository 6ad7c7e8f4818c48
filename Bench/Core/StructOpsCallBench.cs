using BenchmarkDotNet.Attributes;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Programs;
using BpfSim.Programs.Tcp;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Core;

/// <summary>
/// The cost of calling a congestion-control member through a registered struct_ops map (the ops table the stack
/// resolves once from the map's programs) against a direct interface call to the same C# code.
/// One operation = one call of ssthresh and one of cong_avoid.
/// </summary>
[MemoryDiagnoser]
public class StructOpsCallBench
{
    private const int Batch = 1024;

    public interface ICongestion
    {
        uint Ssthresh(ref TcpSock sk);

        void CongAvoid(ref TcpSock sk, uint ack, uint acked);
    }

    private sealed class DirectMinimal : ICongestion
    {
        public uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

        public void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
    }

    private ICongestion _direct = null!;
    private TcpCongestionOps _ops = null!;
    private TcpSock _sk;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        var bpf = services.GetRequiredService<BpfSimFactory>().Create();
        StructOpsLoader.Load(bpf, new BpfMinimal(), out var loaded).ThrowIfFailed();
        loaded!.Register().ThrowIfFailed();
        var type = (TcpCongestionOpsType)bpf.FindStructOpsType(TcpCongestionOpsType.TypeName)!;
        type.Registry.TryAcquire("bpf_minimal", out _ops).ThrowIfFailed();
        _direct = new DirectMinimal();
        _sk = new TcpSock { SndCwnd = 10, SndSsthresh = 5, SndCwndClamp = 20, IsCwndLimited = true };
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public uint DirectInterfaceCall()
    {
        uint sum = 0;
        var cc = _direct;
        for (int i = 0; i < Batch; i++)
        {
            sum += cc.Ssthresh(ref _sk);
            cc.CongAvoid(ref _sk, 0, 1);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public uint ThroughStructOpsMap()
    {
        uint sum = 0;
        var ops = _ops;
        for (int i = 0; i < Batch; i++)
        {
            sum += ops.Ssthresh!(ref _sk);
            ops.CongAvoid!(ref _sk, 0, 1);
        }
        return sum;
    }
}
