using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>The TCP stack end to end over the dumbbell: transfer, recovery, timeouts, ECN, determinism.</summary>
[Category("Tcp")]
public sealed class TcpStackTests
{
    [Test]
    public void SizedTransfer_CompletesAndClosesTheSocket()
    {
        var sc = new TcpScenario();
        var flow = sc.Flow("reno", bytes: 1_000_000);
        sc.RunFor(5);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(1_000_000));
        Assert.That(flow.Stats.Retransmits, Is.Zero);
        Assert.That(sc.Net.Packets.InUse, Is.Zero, "every packet went back to the pool");
        // 691 segments from an initial window of 10 over a 24 ms RTT in slow start: well under a second.
        Assert.That(flow.EndTime.TotalSeconds, Is.LessThan(0.4));
    }

    [Test]
    public void BulkReno_FillsAnUncongestedBottleneck()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropTailQueue(250) });
        var flow = sc.Flow("reno");
        sc.RunFor(10);
        sc.Net.FinishAccounting();
        double goodput = TcpScenario.GoodputMbps(flow, 10);
        TestContext.Out.WriteLine($"goodput {goodput:0.0} Mbit/s, retrans {flow.Stats.Retransmits}, rtt {flow.Stats.RttMeanMs:0.0} ms");
        Assert.That(goodput, Is.GreaterThan(85));
        Assert.That(sc.Bell.Bottleneck.Stats.Utilization(sc.Sim.Now.Nanoseconds), Is.GreaterThan(0.9));
    }

    [Test]
    public void SingleLoss_FastRecoveryNotTimeout_CwndHalved()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(100) });
        var flow = sc.Flow("reno", bytes: 3_000_000);
        sc.RunFor(5);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(3_000_000));
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.Timeouts, flow.Stats.Retransmits), Is.EqualTo((1L, 0L, 1L)));
    }

    [Test]
    public void TailLoss_RecoveredByTimeout_WithBackoffReset()
    {
        // The last segment of a 20-segment transfer is lost: no SACKs follow it, so without TLP (tcp_recovery = 0) only
        // the RTO recovers it.
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(20) }, stack: new TcpStackOptions { Recovery = 0 });
        var flow = sc.Flow("reno", bytes: 20 * 1448);
        sc.RunFor(5);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That(flow.Stats.Timeouts, Is.EqualTo(1));
        Assert.That(flow.EndTime.TotalSeconds, Is.GreaterThan(0.2), "waited at least TCP_RTO_MIN");
    }

    [Test]
    public void Rto_WholeJiffies_FiresOnTheTick()
    {
        // __tcp_set_rto (include/net/tcp.h): icsk_rto = usecs_to_jiffies((srtt_us >> 3) + rttvar_us), rounded up to a
        // jiffy (HZ = 1000); inet_csk_reset_xmit_timer → sk_reset_timer arms expires = jiffies + icsk_rto, and the
        // timer runs on the tick at which jiffies reaches it. The last segment of a 20-segment transfer is lost, so the
        // RTO armed by the last ACK fires at (⌊t_ack / 1 ms⌋ + ⌈(srtt/8 + rttvar) / 1000 µs⌉) ms.
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(20) }, stack: new TcpStackOptions { Recovery = 0 }); // no TLP
        var flow = sc.Flow("reno", bytes: 20 * 1448);
        (long Ns, uint Srtt8, uint Rttvar) lastAck = default;
        long timeoutNs = -1;
        sc.Stack.Updated += c =>
        {
            if (c.Stats.Timeouts > 0)
            {
                if (timeoutNs < 0)
                {
                    timeoutNs = sc.Sim.Now.Nanoseconds;
                }
                return;
            }
            lastAck = (sc.Sim.Now.Nanoseconds, sc.Stack.Sock(c.Id).SrttUs, c.RttvarUs);
        };
        sc.RunFor(5);
        Assert.That(flow.Stats.Timeouts, Is.EqualTo(1));
        long rtoJiffies = ((lastAck.Srtt8 >> 3) + lastAck.Rttvar + 999) / 1000;
        TestContext.Out.WriteLine($"last ACK {lastAck.Ns} ns, srtt {lastAck.Srtt8 >> 3} µs, rttvar {lastAck.Rttvar} µs, RTO {rtoJiffies} jiffies, fired {timeoutNs} ns");
        Assert.That(flow.RtoNs % 1_000_000, Is.Zero, "icsk_rto is whole jiffies");
        Assert.That(timeoutNs, Is.EqualTo((lastAck.Ns / 1_000_000 + rtoJiffies) * 1_000_000));
    }

    [Test]
    public void SameSeed_IdenticalRun()
    {
        static (long, long, long, double) Run()
        {
            var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new BernoulliLoss(0.005) }, seed: 9);
            var a = sc.Flow("reno");
            var b = sc.Flow("reno", startS: 0.5);
            sc.RunFor(5);
            return (a.Stats.BytesAcked, b.Stats.BytesAcked, a.Stats.Retransmits + b.Stats.Retransmits, a.Stats.RttSumMs);
        }
        var first = Run();
        var second = Run();
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void UnknownAlgorithm_ENOENT()
    {
        var sc = new TcpScenario();
        var r = sc.Stack.Open((s, rcv) => sc.Bell.AddFlow(s, rcv), "nope", SimTime.Zero, out _);
        Assert.That(r.Errno, Is.EqualTo(BpfSim.Core.Bpf.Errno.ENOENT));
    }

    /// <summary>
    /// Records, at each ssthresh call (made by tcp_init_cwnd_reduction or tcp_enter_loss after prior_ssthresh is set),
    /// prior_ssthresh and what tcp_current_ssthresh would be, and classifies it by the state entered next.
    /// </summary>
    [StructOps("tcp_congestion_ops", Name = "prior_probe")]
    private sealed class PriorSsthreshProbe : TcpCongestionOpsProgram
    {
        private (TcpCaState From, uint Prior, uint Current)? _pending;

        public List<(TcpCaState From, TcpCaState To, uint Prior, uint Current)> Entries { get; } = [];

        public override uint Ssthresh(ref TcpSock sk)
        {
            // include/net/tcp.h tcp_current_ssthresh, by hand: ssthresh in CWR/Recovery, else max(ssthresh, 3/4 cwnd).
            uint current = sk.IcskCaState is TcpCaState.CWR or TcpCaState.Recovery
                ? sk.SndSsthresh
                : Math.Max(sk.SndSsthresh, (sk.SndCwnd >> 1) + (sk.SndCwnd >> 2));
            _pending = (sk.IcskCaState, sk.PriorSsthresh, current);
            return TcpCongKfuncs.RenoSsthresh(ref sk);
        }

        public override void SetState(ref TcpSock sk, TcpCaState newState)
        {
            if (_pending is { } p)
            {
                Entries.Add((p.From, newState, p.Prior, p.Current));
                _pending = null;
            }
        }

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

        public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
    }

    [Test]
    public void PriorSsthresh_RecoveryEnteredOnAnEceAck_ClearsTheEarlierEpisodesValue()
    {
        // tcp_input.c tcp_enter_recovery: prior_ssthresh = 0 and tcp_init_undo on every entry, then prior_ssthresh =
        // tcp_current_ssthresh only when not already reducing and the ACK carries no ECE; tcp_enter_cwr clears it too.
        // Data segment 100 is dropped (Recovery without ECE: prior_ssthresh set), then 400 is dropped and 403
        // CE-marked, so the third duplicate ACK — the one that marks 400 lost (reordering 3) — is also the first to
        // echo ECE: Recovery is entered from Open on an ECE ACK and prior_ssthresh must be 0, not the first episode's.
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropThenMark(100, 400, 403) },
            stack: new TcpStackOptions { Ecn = 1, Recovery = 0 }); // the dupthresh rule marks 400 on the ECE ACK
        var probe = new PriorSsthreshProbe();
        sc.System.Register(probe);
        var flow = sc.Flow("prior_probe");
        sc.RunFor(5);
        var e = probe.Entries;
        TestContext.Out.WriteLine(string.Join("\n", e));

        var recovery = e.Where(x => x.To == TcpCaState.Recovery).ToList();
        Assert.That(recovery, Has.Count.EqualTo(2));
        Assert.That(recovery[0].From, Is.Not.EqualTo(TcpCaState.CWR));
        Assert.That(recovery[0].Prior, Is.EqualTo(recovery[0].Current).And.Not.Zero, "no ECE: tcp_current_ssthresh");
        Assert.That(recovery[1].From, Is.Not.EqualTo(TcpCaState.CWR), "entered from Open/Disorder, so the ECE path of tcp_enter_recovery");
        Assert.That(recovery[1].Prior, Is.Zero, "ECE: prior_ssthresh stays 0");
        Assert.That(e.Where(x => x.To == TcpCaState.CWR).Select(x => x.Prior), Is.All.Zero, "tcp_enter_cwr: prior_ssthresh = 0");
        Assert.That(flow.Stats.EcnEchoes, Is.GreaterThan(0));
    }

    /// <summary>Drops data segments <paramref name="drop1"/> and <paramref name="drop2"/> (1-based) and CE-marks <paramref name="mark"/>.</summary>
    private sealed class DropThenMark(long drop1, long drop2, long mark) : QueueDiscipline
    {
        private long _data;

        protected override QueueVerdict Admit(ref Packet packet, long now)
        {
            if (packet.PayloadBytes == 0)
            {
                return QueueVerdict.Enqueued;
            }
            long n = ++_data;
            return n == drop1 || n == drop2 ? QueueVerdict.Dropped : n == mark && IsEcnCapable(packet) ? QueueVerdict.Marked : QueueVerdict.Enqueued;
        }
    }

    /// <summary>Drops the data segments with the given 1-based ordinals.</summary>
    private sealed class DropData(params long[] ordinals) : QueueDiscipline
    {
        private long _data;

        protected override QueueVerdict Admit(ref Packet packet, long now) =>
            packet.PayloadBytes > 0 && ordinals.Contains(++_data) ? QueueVerdict.Dropped : QueueVerdict.Enqueued;
    }

    /// <summary>Records each ACK's SACK blocks, as (start, end) byte pairs in the order sent.</summary>
    private sealed class SackTap(Network net, IPacketSink sender) : IPacketSink
    {
        public List<(uint Start, uint End)[]> Blocks { get; } = [];

        public void Receive(int packet)
        {
            var s = net.Packets[packet].Segment;
            if ((s.Flags & TcpFlags.Syn) == 0)
            {
                var b = net.Packets.SacksOf(packet);
                var all = new[] { (b.Sack0Start, b.Sack0End), (b.Sack1Start, b.Sack1End), (b.Sack2Start, b.Sack2End) };
                Blocks.Add(all[..s.SackCount]);
            }
            sender.Receive(packet);
        }
    }

    [Test]
    public void SackBlocks_MostRecentFirst_ThreeOfFourRemembered()
    {
        // tcp_sack_new_ofo_skb (tcp_input.c) keeps up to TCP_NUM_SACKS = 4 blocks, the one the newest out-of-order
        // data created or extended first, the others shifted down in recency order; tcp_options_write sends as many as
        // fit beside timestamps (3). Data segments 20, 22, 24 and 26 (1-based) are dropped from the first flights, so
        // the receiver holds 21, 23, 25 and 27 onwards out of order: after 28 arrives, the ACK carries
        // [27, 28] (just extended), then [25], then [23] — the oldest block, [21], is remembered but not sent.
        var sim = new TcpTestSystem();
        var net = new Network(sim.Bpf.Simulator, 1);
        var forward = net.AddLink("fwd", 100_000_000, SimTime.FromMilliseconds(5), new DropData(20, 22, 24, 26));
        var back = net.AddLink("back", 100_000_000, SimTime.FromMilliseconds(5), new DropTailQueue(1000));
        var stack = new TcpStack(net, sim.Registry, bpf: sim.Bpf);
        SackTap? tap = null;
        stack.Open((sender, receiver) =>
        {
            tap = new SackTap(net, sender);
            int f = net.AddRoute([forward], net.AddSink(receiver));
            int r = net.AddRoute([back], net.AddSink(tap));
            return new FlowPath(f, r, SimTime.FromMilliseconds(10));
        }, "reno", SimTime.Zero, out var flow, bytes: 100 * 1448).ThrowIfFailed();
        sim.Bpf.Simulator.RunUntil(SimTime.FromSeconds(2));
        Assert.That(flow!.Stats.BytesAcked, Is.EqualTo(100 * 1448));

        // Segment n (1-based) holds bytes [1 + (n − 1) × 1448, 1 + n × 1448).
        static (uint, uint) Seg(int first, int last) => ((uint)(1 + (first - 1) * 1448), (uint)(1 + last * 1448));
        var withBlocks = tap!.Blocks.Where(b => b.Length > 0).ToList();
        TestContext.Out.WriteLine(string.Join("\n", withBlocks.Take(8).Select(b => string.Join(" ", b))));
        Assert.That(withBlocks[0], Is.EqualTo(new[] { Seg(21, 21) }));
        Assert.That(withBlocks[1], Is.EqualTo(new[] { Seg(23, 23), Seg(21, 21) }));
        Assert.That(withBlocks[2], Is.EqualTo(new[] { Seg(25, 25), Seg(23, 23), Seg(21, 21) }));
        Assert.That(withBlocks[3], Is.EqualTo(new[] { Seg(27, 27), Seg(25, 25), Seg(23, 23) }));
        Assert.That(withBlocks[4], Is.EqualTo(new[] { Seg(27, 28), Seg(25, 25), Seg(23, 23) }));
    }

    /// <summary>Delivers data segment <paramref name="n"/> (1-based) twice, the copy right after the original.</summary>
    private sealed class DuplicateNth(Network net, IPacketSink receiver, long n) : IPacketSink
    {
        private long _data;

        public void Receive(int packet)
        {
            if (net.Packets[packet].PayloadBytes > 0 && ++_data == n)
            {
                int copy = net.Packets.Allocate();
                net.Packets[copy] = net.Packets[packet];
                receiver.Receive(packet);
                receiver.Receive(copy);
                return;
            }
            receiver.Receive(packet);
        }
    }

    /// <summary>Records the cumulative ACK of each ACK on its way to the sender.</summary>
    private sealed class AckSeqTap(Network net, IPacketSink sender) : IPacketSink
    {
        public List<uint> Acks { get; } = [];

        public void Receive(int packet)
        {
            if ((net.Packets[packet].Segment.Flags & TcpFlags.Syn) == 0)
            {
                Acks.Add(net.Packets[packet].Segment.Ack);
            }
            sender.Receive(packet);
        }
    }

    [Test]
    public void DuplicateData_EntersQuickAckMode()
    {
        // tcp_data_queue: a segment wholly below rcv_nxt forces an immediate ACK and tcp_enter_quickack_mode(sk,
        // TCP_MAX_QUICKACKS = 16); that ACK uses one (tcp_dec_quickack_mode), so the next 15 segments are ACKed one
        // by one, and then the receiver returns to ACKing every second segment. Without TSO no segment before the
        // last carries PSH (a TSO skb's last one does, and is ACKed when read), so the ACKs pair segments regularly.
        const int n = 100;
        var sim = new TcpTestSystem();
        var net = new Network(sim.Bpf.Simulator, 1);
        var forward = net.AddLink("fwd", 100_000_000, SimTime.FromMilliseconds(5), new DropTailQueue(1000));
        var back = net.AddLink("back", 100_000_000, SimTime.FromMilliseconds(5), new DropTailQueue(1000));
        var stack = new TcpStack(net, sim.Registry, new TcpStackOptions { Tso = false }, sim.Bpf);
        AckSeqTap? tap = null;
        stack.Open((sender, receiver) =>
        {
            tap = new AckSeqTap(net, sender);
            int f = net.AddRoute([forward], net.AddSink(new DuplicateNth(net, receiver, n)));
            int r = net.AddRoute([back], net.AddSink(tap));
            return new FlowPath(f, r, SimTime.FromMilliseconds(10));
        }, "reno", SimTime.Zero, out _, bytes: 300 * 1448).ThrowIfFailed();
        sim.Bpf.Simulator.RunUntil(SimTime.FromSeconds(2));

        static uint End(int segment) => (uint)(1 + segment * 1448);
        var acks = tap!.Acks;
        int dup = acks.LastIndexOf(End(n));
        TestContext.Out.WriteLine(string.Join(" ", acks.Skip(dup - 2).Take(22).Select(a => (a - 1) / 1448)));
        Assert.That(acks[dup - 1], Is.EqualTo(End(n)), "segment 100 completed a pair; its duplicate is ACKed at once again");
        var expected = Enumerable.Range(n + 1, 15).Select(End).Append(End(n + 17)).ToList();
        Assert.That(acks.Skip(dup + 1).Take(16), Is.EqualTo(expected));
    }

    /// <summary>Records when each data segment reaches the receiver (by its end sequence).</summary>
    private sealed class ArrivalTap(Network net, IPacketSink receiver) : IPacketSink
    {
        public Dictionary<uint, long> At { get; } = [];

        public void Receive(int packet)
        {
            ref var p = ref net.Packets[packet];
            if (p.PayloadBytes > 0)
            {
                At.TryAdd(p.Segment.Seq + (uint)p.PayloadBytes, net.Simulator.Now.Nanoseconds);
            }
            receiver.Receive(packet);
        }
    }

    /// <summary>Records each ACK's cumulative ACK and arrival time.</summary>
    private sealed class TimedAckTap(Network net, IPacketSink sender) : IPacketSink
    {
        public List<(uint Ack, long Ns)> Acks { get; } = [];

        public void Receive(int packet)
        {
            if ((net.Packets[packet].Segment.Flags & TcpFlags.Syn) == 0)
            {
                Acks.Add((net.Packets[packet].Segment.Ack, net.Simulator.Now.Nanoseconds));
            }
            sender.Receive(packet);
        }
    }

    /// <summary>
    /// One reno flow over a path of <paramref name="oneWay"/> each way: the application's <paramref name="writes"/>, or
    /// with none an endless bulk transfer; the data direction at <paramref name="dataBps"/>.
    /// </summary>
    private static (ArrivalTap Data, TimedAckTap Acks) RunWrites(TcpWritePattern? writes, SimTime oneWay, double seconds,
        long dataBps = 100_000_000, TcpStackOptions? options = null)
    {
        var sim = new TcpTestSystem();
        var net = new Network(sim.Bpf.Simulator, 1);
        var forward = net.AddLink("fwd", dataBps, oneWay, new DropTailQueue(1000));
        var back = net.AddLink("back", 100_000_000, oneWay, new DropTailQueue(1000));
        var stack = new TcpStack(net, sim.Registry, options, sim.Bpf);
        ArrivalTap? data = null;
        TimedAckTap? acks = null;
        stack.Open((sender, receiver) =>
        {
            data = new ArrivalTap(net, receiver);
            acks = new TimedAckTap(net, sender);
            int f = net.AddRoute([forward], net.AddSink(data));
            int r = net.AddRoute([back], net.AddSink(acks));
            return new FlowPath(f, r, oneWay + oneWay);
        }, "reno", SimTime.Zero, out _, writes: writes).ThrowIfFailed();
        sim.Bpf.Simulator.RunUntil(new SimTime((long)(seconds * 1e9)));
        return (data!, acks!);
    }

    [Test]
    public void DelayedAck_TimerMissed_AtoDoubles()
    {
        // One segment every 100 ms over a 200 ms RTT: an endless transfer through a 120 kbit/s link (a 1500-byte
        // packet takes 100 ms), without TSO, so no segment carries PSH (which would be ACKed when read). The first 16
        // are quick-ACKed (TCP_MAX_QUICKACKS); leaving quick mode sets ato = TCP_ATO_MIN = 40 jiffies
        // (tcp_dec_quickack_mode). By hand, from tcp_event_data_recv, tcp_send_delayed_ack and
        // tcp_delack_timer_handler (HZ = 1000; the receiver's srtt from the handshake is about 203.5 ms — the SYN's
        // 52 bytes take 3.5 ms — and its icsk_rto 203 + 407 = 610 ms):
        //   segment 17: m = 100 > ato → ato stays 40 → ACK after 40 ms; the timer fired, so ato = min(80, rto) = 80;
        //   segment 18: m = 100 > 80 → ato 80, bounded by min(HZ/2, srtt) ≈ 203 → ACK after 80 ms; ato = 160;
        //   segment 19: m = 100 < 160 → ato = 80 + 100 = 180 → timeout 180 ms, but segment 20 arrives first and the
        //   two are ACKed together. Timers fire on the tick, so each delay is within the jiffy below.
        static uint End(int segment) => (uint)(1 + segment * 1448);
        const long oneWayNs = 100_000_000;
        var (data, acks) = RunWrites(null, new SimTime(oneWayNs), 4, dataBps: 120_000, options: new TcpStackOptions { Tso = false });
        double DelayMs(int segment)
        {
            long ack = acks.Acks.First(a => a.Ack == End(segment)).Ns;
            return (ack - oneWayNs - data.At[End(segment)]) / 1e6;
        }
        TestContext.Out.WriteLine(string.Join(" ", Enumerable.Range(14, 6).Select(k => acks.Acks.Any(a => a.Ack == End(k)) ? $"{k}:{DelayMs(k):0.000}" : $"{k}:-")));
        Assert.That(DelayMs(16), Is.LessThan(1), "the 16th is still quick-ACKed");
        Assert.That(DelayMs(17), Is.InRange(39.0, 40.1));
        Assert.That(DelayMs(18), Is.InRange(79.0, 80.1), "ato doubled when the timer fired");
        Assert.That(acks.Acks.Any(a => a.Ack == End(19)), Is.False, "19 waits for 20");
        Assert.That(DelayMs(20), Is.LessThan(1));
    }

    [Test]
    public void PushedSegment_EndOfEachWrite_AckedWhenReadNotDelayed()
    {
        // One 1448-byte write every 100 ms: each write's single segment carries PSH (tcp_push → tcp_mark_push,
        // net/ipv4/tcp.c), so tcp_measure_rcv_mss sets ICSK_ACK_PUSHED for it (a full frame with PSH) and the read
        // that drains the receive queue sends the ACK at once (__tcp_cleanup_rbuf). After the 16 quick ACKs the
        // receiver schedules a delayed ACK for each (one segment unacknowledged), which the read then sends: every
        // segment is ACKed on arrival, none 40 ms (TCP_ATO_MIN) or more later.
        static uint End(int segment) => (uint)(1 + segment * 1448);
        const long oneWayNs = 100_000_000;
        var (data, acks) = RunWrites(new TcpWritePattern(1448, SimTime.FromMilliseconds(100)), new SimTime(oneWayNs), 4);
        for (int k = 1; k <= 30; k++)
        {
            long ack = acks.Acks.First(a => a.Ack == End(k)).Ns;
            Assert.That((ack - oneWayNs - data.At[End(k)]) / 1e6, Is.LessThan(1), $"segment {k}");
        }
    }

    [Test]
    public void QuickAcks_AfterAnIdleLongerThanTheRto()
    {
        // tcp_event_data_recv: a gap between in-order segments above the receiver's icsk_rto (here about 224 ms)
        // means the sender idled; tcp_incr_quickack turns quick ACKs back on, so each 10-segment burst written
        // every second is ACKed segment by segment (10 ACKs), not every second segment.
        static uint End(int segment) => (uint)(1 + segment * 1448);
        var (_, acks) = RunWrites(new TcpWritePattern(10 * 1448, SimTime.FromSeconds(1)), SimTime.FromMilliseconds(12), 5.5);
        for (int burst = 2; burst <= 5; burst++)
        {
            int first = (burst - 1) * 10;
            var inBurst = acks.Acks.Where(a => a.Ack > End(first) && a.Ack <= End(first + 10)).Select(a => a.Ack).ToList();
            Assert.That(inBurst, Is.EqualTo(Enumerable.Range(first + 1, 10).Select(End)), $"burst {burst}");
        }
    }
}
