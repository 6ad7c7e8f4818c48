using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// One flow over a forward and a reverse link with a script on each direction: data segments dropped or delayed by
/// (segment, transmission), ACKs recorded and, from the first ACK with a SACK block, optionally held back for a
/// while. Loss-recovery tests use it to cause exactly the loss or reordering they are about.
/// </summary>
internal sealed class ScriptedPath
{
    public const int Mss = 1448;

    public ScriptedPath(TcpStackOptions? options = null, double oneWayMs = 5, long rateBps = 100_000_000, int queue = 10_000)
    {
        System = new TcpTestSystem();
        Net = new Network(System.Bpf.Simulator, 1);
        Forward = Net.AddLink("fwd", rateBps, SimTime.FromMicroseconds((long)(oneWayMs * 1000)), new DropTailQueue(queue));
        Back = Net.AddLink("back", rateBps, SimTime.FromMicroseconds((long)(oneWayMs * 1000)), new DropTailQueue(queue));
        Stack = new TcpStack(Net, System.Registry, options, System.Bpf);
        Undo = new TcpCongestionOps
        {
            Name = "undo_count",
            Ssthresh = TcpCongKfuncs.RenoSsthresh,
            CongAvoid = TcpCongKfuncs.RenoCongAvoid,
            UndoCwnd = (ref TcpSock sk) =>
            {
                UndoCalls++;
                return TcpCongKfuncs.RenoUndoCwnd(ref sk);
            },
        };
        Assert.That(System.Registry.Register(Undo).IsOk);
    }

    public TcpTestSystem System { get; }
    public Network Net { get; }
    public Link Forward { get; }
    public Link Back { get; }
    public TcpStack Stack { get; }
    public Simulator Sim => System.Bpf.Simulator;
    public DataScript Data { get; private set; } = null!;
    public AckScript Acks { get; private set; } = null!;

    /// <summary>A Reno algorithm ("undo_count") that counts its undo_cwnd calls.</summary>
    public TcpCongestionOps Undo { get; }
    public int UndoCalls { get; private set; }

    public TcpConnection Open(string cc = "undo_count", long bytes = -1, TcpWritePattern? writes = null)
    {
        TcpConnection? conn = null;
        Stack.Open((sender, receiver) =>
        {
            Data = new DataScript(Net, receiver);
            Acks = new AckScript(Net, sender);
            int f = Net.AddRoute([Forward], Net.AddSink(Data));
            int r = Net.AddRoute([Back], Net.AddSink(Acks));
            return new FlowPath(f, r, Forward.Delay + Back.Delay);
        }, cc, SimTime.Zero, out conn, bytes, writes: writes).ThrowIfFailed();
        return conn!;
    }

    public void RunFor(double seconds) => Sim.RunUntil(Sim.Now + new SimTime((long)(seconds * 1e9)));

    public static long SegmentOf(uint seq) => (seq - 1) / Mss;
}

/// <summary>The data direction's script: drops and delays by (segment, nth transmission), counting transmissions.</summary>
internal sealed class DataScript(Network net, IPacketSink receiver) : IPacketSink
{
    public Dictionary<long, int> Transmissions { get; } = [];
    public HashSet<(long Segment, int Tx)> Drop { get; } = [];
    public Dictionary<(long Segment, int Tx), SimTime> Delay { get; } = [];
    /// <summary>Drops each data packet with this probability (a fixed-seed random pattern); null: none.</summary>
    public Func<long, int, bool>? DropIf { get; set; }

    public int TxOf(long segment) => Transmissions.GetValueOrDefault(segment);

    /// <summary>When each SYN reached the script (ns), in order, dropped or not.</summary>
    public List<long> SynTimesNs { get; } = [];

    /// <summary>Drops the nth SYN (from 1) when this returns true; null: none.</summary>
    public Func<int, bool>? DropSyn { get; set; }

    public void Receive(int packet)
    {
        ref var p = ref net.Packets[packet];
        if ((p.Segment.Flags & TcpFlags.Syn) != 0)
        {
            SynTimesNs.Add(net.Simulator.Now.Nanoseconds);
            if (DropSyn?.Invoke(SynTimesNs.Count) == true)
            {
                net.Packets.Free(packet);
                return;
            }
        }
        if (p.PayloadBytes == 0)
        {
            receiver.Receive(packet);
            return;
        }
        long seg = ScriptedPath.SegmentOf(p.Segment.Seq);
        int tx = Transmissions[seg] = TxOf(seg) + 1;
        if (Drop.Contains((seg, tx)) || DropIf?.Invoke(seg, tx) == true)
        {
            net.Packets.Free(packet);
            return;
        }
        if (Delay.TryGetValue((seg, tx), out var d))
        {
            net.Simulator.Schedule(net.Simulator.Now + d, () => receiver.Receive(packet));
            return;
        }
        receiver.Receive(packet);
    }
}

/// <summary>The ACK direction's script: records every ACK (cumulative ACK and SACK blocks, in bytes) and can hold ACKs.</summary>
internal sealed class AckScript(Network net, IPacketSink sender) : IPacketSink
{
    private readonly Queue<int> _held = [];
    private long _holdUntil = -1;

    public List<(uint Ack, (uint Start, uint End)[] Blocks)> Seen { get; } = [];

    /// <summary>Drops the ACKs for which this returns true (given the time in ns); null: none.</summary>
    public Func<long, bool>? DropIf { get; set; }

    /// <summary>From the first ACK carrying a SACK block, hold every ACK this long, then release them in order.</summary>
    public SimTime? HoldFromFirstSack { get; set; }

    /// <summary>When each SYN-ACK reached the script (ns), in order, dropped or not.</summary>
    public List<long> SynAckTimesNs { get; } = [];

    /// <summary>Drops the nth SYN-ACK (from 1) when this returns true; null: none.</summary>
    public Func<int, bool>? DropSynAck { get; set; }

    public void Receive(int packet)
    {
        var s = net.Packets[packet].Segment;
        if ((s.Flags & TcpFlags.Syn) != 0)
        {
            SynAckTimesNs.Add(net.Simulator.Now.Nanoseconds);
            if (DropSynAck?.Invoke(SynAckTimesNs.Count) == true)
            {
                net.Packets.Free(packet);
                return;
            }
        }
        if ((s.Flags & TcpFlags.Syn) == 0)
        {
            var b = net.Packets.SacksOf(packet);
            var all = new[] { (b.Sack0Start, b.Sack0End), (b.Sack1Start, b.Sack1End), (b.Sack2Start, b.Sack2End) };
            Seen.Add((s.Ack, all[..s.SackCount]));
            if (DropIf?.Invoke(net.Simulator.Now.Nanoseconds) == true)
            {
                net.Packets.Free(packet);
                return;
            }
            if (HoldFromFirstSack is { } hold && _holdUntil < 0 && s.SackCount > 0)
            {
                _holdUntil = net.Simulator.Now.Nanoseconds + hold.Nanoseconds;
                net.Simulator.Schedule(new SimTime(_holdUntil), () =>
                {
                    while (_held.Count > 0)
                    {
                        sender.Receive(_held.Dequeue());
                    }
                });
            }
            if (net.Simulator.Now.Nanoseconds < _holdUntil)
            {
                _held.Enqueue(packet);
                return;
            }
        }
        sender.Receive(packet);
    }
}
