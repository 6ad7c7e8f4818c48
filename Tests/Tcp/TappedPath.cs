using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// One flow's path with taps at the sending host: data is recorded as it leaves the socket (after a 1 ns hop, so
/// the segments of one skb appear 1 ns apart) and ACKs as they reach it. Between them a dumbbell-like path: access,
/// bottleneck, receiver access, and back.
/// </summary>
internal sealed class TappedPath
{
    private readonly Network _net;
    private readonly long _bottleneckBps;
    private readonly SimTime _bottleneckDelay;
    private readonly long _accessBps;
    private readonly int _queue;

    public TappedPath(Network net, long bottleneckBps = 10_000_000_000, SimTime? bottleneckDelay = null, long accessBps = 10_000_000_000, int queue = 10_000)
    {
        _net = net;
        _bottleneckBps = bottleneckBps;
        _bottleneckDelay = bottleneckDelay ?? SimTime.FromMilliseconds(5);
        _accessBps = accessBps;
        _queue = queue;
    }

    /// <summary>
    /// A data segment (the SYN is not recorded) as it left the sender: when (ns), its first byte, its payload and
    /// whether it carries PSH.
    /// </summary>
    public readonly record struct Departure(long TimeNs, uint Seq, int Payload, bool Psh = false);

    /// <summary>An ACK (the SYN-ACK included) as it reached the sender: when (ns) and what it acknowledges.</summary>
    public readonly record struct AckArrival(long TimeNs, uint Ack);

    public List<Departure> Data { get; } = [];

    /// <summary>Called for each data departure as it is recorded; true drops the segment there.</summary>
    public Func<Departure, bool>? OnDeparture { get; set; }
    public List<AckArrival> Acks { get; } = [];

    /// <summary>For <see cref="TcpStack.Open"/>.</summary>
    public FlowPath Connect(IPacketSink sender, IPacketSink receiver)
    {
        var ms1 = SimTime.FromMilliseconds(1);
        Link L(string name, long bps, SimTime delay) => _net.AddLink(name, bps, delay, new DropTailQueue(_queue));
        var tap = L("t_tap", 1_000_000_000_000_000, SimTime.Zero);
        var rest = _net.AddRoute([L("t_access", _accessBps, ms1), L("t_bottleneck", _bottleneckBps, _bottleneckDelay), L("t_raccess", _accessBps, ms1)],
            _net.AddSink(receiver));
        int forward = _net.AddRoute([tap], _net.AddSink(new DataTap(this, rest)));
        int reverse = _net.AddRoute([L("t_raccess_rev", _accessBps, ms1), L("t_bottleneck_rev", _bottleneckBps, _bottleneckDelay), L("t_access_rev", _accessBps, ms1)],
            _net.AddSink(new AckTap(this, sender)));
        return new FlowPath(forward, reverse, new SimTime(2 * (2 * ms1.Nanoseconds + _bottleneckDelay.Nanoseconds)));
    }

    /// <summary>The data departures grouped into bursts: segments that left within 100 ns of the previous one.</summary>
    public List<List<Departure>> Bursts(long fromNs = 0)
    {
        var bursts = new List<List<Departure>>();
        foreach (var d in Data.Where(d => d.TimeNs >= fromNs))
        {
            if (bursts.Count == 0 || d.TimeNs - bursts[^1][^1].TimeNs > 100)
            {
                bursts.Add([]);
            }
            bursts[^1].Add(d);
        }
        return bursts;
    }

    private sealed class DataTap(TappedPath path, int next) : IPacketSink
    {
        public void Receive(int packet)
        {
            ref var p = ref path._net.Packets[packet];
            if (p.PayloadBytes > 0)
            {
                var d = new Departure(path._net.Simulator.Now.Nanoseconds, p.Segment.Seq, p.PayloadBytes, (p.Segment.Flags & TcpFlags.Psh) != 0);
                path.Data.Add(d);
                if (path.OnDeparture?.Invoke(d) == true)
                {
                    path._net.Packets.Free(packet);
                    return;
                }
            }
            p.Route = next;
            path._net.Send(packet);
        }
    }

    private sealed class AckTap(TappedPath path, IPacketSink sender) : IPacketSink
    {
        public void Receive(int packet)
        {
            path.Acks.Add(new AckArrival(path._net.Simulator.Now.Nanoseconds, path._net.Packets[packet].Segment.Ack));
            sender.Receive(packet);
        }
    }
}
