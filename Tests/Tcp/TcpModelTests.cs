using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Programs.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>The stack against published models and the kernel's hook order, and struct_ops lifetimes under flows.</summary>
[Category("Tcp")]
public sealed class TcpModelTests
{
    [TestCase(0.01)]
    [TestCase(0.001)]
    public void Reno_UnderRandomLoss_MatchesMathis(double p)
    {
        // A fast bottleneck with a deep buffer, so random loss alone limits the flow.
        var sc = new TcpScenario(new DumbbellOptions
        {
            BottleneckRateBps = 1_000_000_000,
            BottleneckQueue = _ => new DropTailQueue(100_000),
            BottleneckLoss = new BernoulliLoss(p),
        }, seed: 42);
        var flow = sc.Flow("reno");
        const double seconds = 60;
        sc.RunFor(seconds);
        double rtt = flow.Stats.RttMeanMs / 1000;
        double mathis = 1.22 * 1448 * 8 / (rtt * Math.Sqrt(p)) / 1e6;
        double goodput = TcpScenario.GoodputMbps(flow, seconds);
        TestContext.Out.WriteLine($"p={p}: goodput {goodput:0.00} Mbit/s, Mathis {mathis:0.00} Mbit/s (rtt {rtt * 1000:0.0} ms), timeouts {flow.Stats.Timeouts}");
        Assert.That(goodput, Is.EqualTo(mathis).Within(25).Percent);
    }

    private sealed record Call(string Hook, string Arg);

    [StructOps("tcp_congestion_ops", Name = "recorder")]
    private sealed class Recorder : TcpCongestionOpsProgram
    {
        public List<Call> Calls { get; } = [];

        /// <summary>cwnd and ssthresh as each cwnd_event found them.</summary>
        public List<(TcpCaEvent Event, uint Cwnd, uint Ssthresh)> Events { get; } = [];

        public override void Init(ref TcpSock sk) => Calls.Add(new("init", ""));

        public override uint Ssthresh(ref TcpSock sk)
        {
            Calls.Add(new("ssthresh", $"cwnd={sk.SndCwnd}"));
            return TcpCongKfuncs.RenoSsthresh(ref sk);
        }

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
        {
            Calls.Add(new("cong_avoid", $"acked={acked}"));
            TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
        }

        public override void SetState(ref TcpSock sk, TcpCaState newState) => Calls.Add(new("set_state", $"{sk.IcskCaState}->{newState}"));

        public override void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
        {
            Calls.Add(new("cwnd_event", ev.ToString()));
            Events.Add((ev, sk.SndCwnd, sk.SndSsthresh));
        }

        public override void InAckEvent(ref TcpSock sk, uint flags) => Calls.Add(new("in_ack_event", flags.ToString()));

        public override void PktsAcked(ref TcpSock sk, in AckSample sample) => Calls.Add(new("pkts_acked", $"{sample.PktsAcked}"));

        public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);

        public override void Release(ref TcpSock sk) => Calls.Add(new("release", ""));

        public override uint SndbufExpand(ref TcpSock sk)
        {
            Calls.Add(new("sndbuf_expand", ""));
            return 3;
        }

        public override uint MinTsoSegs(ref TcpSock sk)
        {
            Calls.Add(new("min_tso_segs", ""));
            return 4;
        }
    }

    [Test]
    public void HookOrder_AckPathAndOneFastRecovery_AsTheKernel()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = new ScriptedLoss(40) });
        var recorder = new Recorder();
        sc.System.Register(recorder);
        sc.Flow("recorder", bytes: 200 * 1448);
        sc.RunFor(5);
        // sndbuf_expand and min_tso_segs have their own call points (buffer space, TSO sizing); the order checks below
        // concern the ACK path.
        Assert.That(recorder.Calls.Select(c => c.Hook).Take(6),
            Is.EqualTo(new[] { "pkts_acked", "in_ack_event", "init", "sndbuf_expand", "min_tso_segs", "cwnd_event" }),
            "the SYN-ACK's tcp_ack (the SYN acked) before tcp_init_transfer: init, then tcp_init_buffer_space; then the " +
            "first tcp_write_xmit sizes TSO and sends");
        // tcp_ack with FLAG_SLOWPATH, snd_una advanced (FLAG_WIN_UPDATE): CA_ACK_SLOWPATH | CA_ACK_WIN_UPDATE.
        Assert.That(recorder.Calls[0].Arg, Is.EqualTo("1"), "one packet, the SYN");
        Assert.That(recorder.Calls[1].Arg, Is.EqualTo("3"));
        recorder.Calls.RemoveRange(0, 2);
        Assert.That(recorder.Calls.Count(c => c.Hook == "min_tso_segs"), Is.GreaterThan(10));
        recorder.Calls.RemoveAll(c => c.Hook is "sndbuf_expand" or "min_tso_segs");
        var hooks = recorder.Calls.Select(c => c.Hook).ToList();
        string Trace(int from, int count) => string.Join(" ", recorder.Calls.Skip(from).Take(count).Select(c => $"{c.Hook}({c.Arg})"));

        Assert.That(recorder.Calls[0], Is.EqualTo(new Call("init", "")), "init at ESTABLISHED");
        Assert.That(recorder.Calls[1], Is.EqualTo(new Call("cwnd_event", "TxStart")), "the first transmit with nothing in flight");
        Assert.That(recorder.Calls[^1], Is.EqualTo(new Call("release", "")), "release when the socket closes");

        // Every ACK: pkts_acked (tcp_clean_rtx_queue), then in_ack_event (tcp_ack calls tcp_in_ack_event after the
        // queue is cleaned), then tcp_fastretrans_alert's hooks (set_state, ssthresh, cwnd_event), then — outside a
        // reduction — cong_avoid.
        for (int i = 0; i < hooks.Count; i++)
        {
            if (hooks[i] == "cong_avoid")
            {
                int j = i - 1;
                while (hooks[j] is "set_state" or "cwnd_event" or "ssthresh")
                {
                    j--;
                }
                Assert.That(hooks[j], Is.EqualTo("in_ack_event"), Trace(j - 2, i - j + 3));
                Assert.That(hooks[j - 1], Is.EqualTo("pkts_acked"), Trace(j - 2, i - j + 3));
            }
        }

        // One loss: ssthresh, then set_state(Recovery); no cong_avoid while recovering; set_state(Open), then COMPLETE_CWR.
        int ss = hooks.IndexOf("ssthresh");
        Assert.That(hooks.Count(h => h == "ssthresh"), Is.EqualTo(1));
        Assert.That(recorder.Calls[ss + 1], Is.EqualTo(new Call("set_state", "Disorder->Recovery")).Or.EqualTo(new Call("set_state", "Open->Recovery")), Trace(ss - 3, 6));
        int open = recorder.Calls.FindIndex(ss, c => c is { Hook: "set_state", Arg: "Recovery->Open" });
        Assert.That(open, Is.GreaterThan(ss), Trace(ss, 30));
        Assert.That(recorder.Calls[open + 1], Is.EqualTo(new Call("cwnd_event", "CompleteCwr")));
        Assert.That(hooks.Skip(ss).Take(open - ss), Has.No.Member("cong_avoid"), "PRR, not cong_avoid, during Recovery");
        // The ACK that first SACKs moves Open to Disorder before recovery starts.
        Assert.That(recorder.Calls.Take(ss), Has.Some.EqualTo(new Call("set_state", "Open->Disorder")));
        // SACK-carrying ACKs take the slow path (CA_ACK_SLOWPATH = 1); in-order ones the fast path (CA_ACK_WIN_UPDATE = 2).
        Assert.That(recorder.Calls.Where(c => c.Hook == "in_ack_event").Select(c => c.Arg).Distinct(), Is.EquivalentTo(new[] { "1", "2" }));
    }

    [Test]
    public void IdleLongerThanRto_RestartsTheWindow_CwndRestartThenTxStart()
    {
        // 300 KB every second: each burst ends in well under 100 ms, then the socket idles ~0.9 s, far above the RTO
        // (~0.2 s), so each later burst first restarts the window (tcp_slow_start_after_idle_check).
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropTailQueue(250) });
        var recorder = new Recorder();
        sc.System.Register(recorder);
        var flow = OpenBursts(sc, "recorder", new TcpWritePattern(300_000, SimTime.FromSeconds(1)));
        sc.RunFor(3.5);
        Assert.That(flow.Stats.CwndRestarts, Is.EqualTo(3), "bursts at 1, 2 and 3 s");
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(4 * 300_000 + 4 * (1448 - 300_000 % 1448)), "whole segments per burst");
        var events = recorder.Calls.Where(c => c.Hook == "cwnd_event").Select(c => c.Arg).ToList();
        var restarts = Enumerable.Range(0, events.Count).Where(i => events[i] == "CwndRestart").ToList();
        Assert.That(restarts, Has.Count.EqualTo(3));
        Assert.That(restarts.Select(i => events[i + 1]), Is.All.EqualTo("TxStart"), "tcp_skb_entail's restart, then tcp_event_data_sent");
        foreach (int i in restarts)
        {
            var (_, before, ssthreshBefore) = recorder.Events[i];
            var (_, after, ssthreshAfter) = recorder.Events[i + 1];
            Assert.That(before, Is.GreaterThan(20), "slow start grew the window during the burst");
            Assert.That(after, Is.LessThanOrEqualTo(before / 2).And.GreaterThanOrEqualTo(Math.Min(10u, before)),
                "halved once per RTO idle, not below the restart window min(TCP_INIT_CWND, cwnd)");
            Assert.That(after, Is.EqualTo(Math.Max(before >> (int)Math.Round(Math.Log2(before / (double)after)), Math.Min(10u, before))),
                "a power-of-two cut, floored at the restart window");
            Assert.That(ssthreshAfter, Is.EqualTo(Math.Max(ssthreshBefore, (before >> 1) + (before >> 2))), "tcp_current_ssthresh: ¾ of the old window");
        }
    }

    [Test]
    public void IdleShorterThanRto_OrSysctlOff_OrCongControl_NoRestart()
    {
        var shortIdle = new TcpScenario();
        var a = OpenBursts(shortIdle, "cubic", new TcpWritePattern(30_000, SimTime.FromMilliseconds(100)));
        shortIdle.RunFor(2);
        Assert.That(a.Stats.CwndRestarts, Is.Zero, "idle ~75 ms < RTO");
        Assert.That(a.Stats.BytesAcked, Is.GreaterThan(19 * 30_000), "every burst was delivered");

        var off = new TcpScenario(stack: new TcpStackOptions { SlowStartAfterIdle = false });
        var b = OpenBursts(off, "cubic", new TcpWritePattern(300_000, SimTime.FromSeconds(1)));
        off.RunFor(3.5);
        Assert.That(b.Stats.CwndRestarts, Is.Zero, "net.ipv4.tcp_slow_start_after_idle = 0");

        var bbr = new TcpScenario();
        var c = OpenBursts(bbr, "bbr", new TcpWritePattern(300_000, SimTime.FromSeconds(1)));
        bbr.RunFor(3.5);
        Assert.That(c.Stats.CwndRestarts, Is.Zero, "an algorithm with cong_control handles idle itself");
        Assert.That(c.Stats.BytesAcked, Is.GreaterThan(3 * 300_000));
    }

    private static TcpConnection OpenBursts(TcpScenario sc, string cc, TcpWritePattern writes)
    {
        var r = sc.Stack.Open((s, rcv) => sc.Bell.AddFlow(s, rcv), cc, SimTime.Zero, out var conn, writes: writes);
        Assert.That(r.IsOk, r.Reason);
        return conn!;
    }

    [StructOps("tcp_congestion_ops", Name = "ecn_reno", Flags = 2)]
    private sealed class EcnReno : TcpCongestionOpsProgram
    {
        public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

        public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
    }

    [TestCase("dctcp")]
    [TestCase("bpf_dctcp")]
    public void DctcpReceivers_EchoEachCeRun_OtherReceiversRefuseEcn(string cc)
    {
        // A DCTCP sender's view of congestion (delivered_ce / delivered) is right because the receiving socket runs
        // DCTCP's CE state machine (its cwnd_event(ECN_IS_CE / ECN_NO_CE)). A receiver running another algorithm
        // refuses the ECT SYN (tcp_ecn_create_request): no ECN, so kernel DCTCP falls back to dctcp-reno and the
        // queue drops instead of marking.
        (double Echoed, double Marked, long Drops, string Ops) Run(string? receiverCc)
        {
            var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new EcnThresholdQueue(k: 20, limitPackets: 250) },
                stack: new TcpStackOptions { ReceiverCc = receiverCc });
            if (cc == "bpf_dctcp")
            {
                sc.System.Register(ConsumerCatalog.Create(sc.System.Catalog.Find("bpf_dctcp")!));
            }
            var flow = sc.Flow(cc);
            sc.RunFor(10);
            ref var sk = ref sc.Stack.Sock(flow.Id);
            var link = sc.Bell.Bottleneck.Stats;
            return ((double)sk.DeliveredCe / sk.Delivered, (double)link.EcnMarks / link.PacketsSent, link.QueueDrops, flow.Ops.Name);
        }
        var dctcp = Run(null);
        TestContext.Out.WriteLine($"dctcp receivers: echoed {dctcp.Echoed:0.0000} of marked {dctcp.Marked:0.0000}");
        Assert.That(dctcp.Marked, Is.GreaterThan(0.01), "the queue marks");
        Assert.That(dctcp.Echoed, Is.EqualTo(dctcp.Marked).Within(3).Percent, "each CE run echoed exactly");
        Assert.That(dctcp.Drops, Is.Zero);

        var cubic = Run("cubic");
        Assert.That((cubic.Echoed, cubic.Marked), Is.EqualTo((0.0, 0.0)), "ECN refused: nothing is ECT, nothing marked");
        Assert.That(cubic.Drops, Is.GreaterThan(0));
        Assert.That(cubic.Ops, Is.EqualTo(cc == "dctcp" ? "dctcp-reno" : "bpf_dctcp"), "dctcp_init falls back; the BPF port has no fallback set");
    }

    [Test]
    public void TcpEcnOne_ClassicEcn_CubicMarkedNotDropped_EceUntilCwr()
    {
        // net.ipv4.tcp_ecn = 1: CUBIC asks for ECN with a non-ECT SYN, which a CUBIC receiver accepts; RED then marks
        // instead of dropping, and the sender reduces once per window of ECE (tcp_enter_cwr) until its CWR arrives.
        (long Marks, long Drops, long Echoes, long Retrans) Run(int ecn)
        {
            var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = random => new RedQueue(20, 60, 0.1, limitPackets: 250, ecn: true, random) },
                stack: new TcpStackOptions { Ecn = ecn });
            var flow = sc.Flow("cubic");
            sc.RunFor(10);
            var link = sc.Bell.Bottleneck.Stats;
            return (link.EcnMarks, link.QueueDrops, flow.Stats.EcnEchoes, flow.Stats.Retransmits);
        }
        var classic = Run(1);
        var off = Run(2);
        TestContext.Out.WriteLine($"tcp_ecn=1: {classic}; tcp_ecn=2: {off}");
        Assert.That(classic.Marks, Is.GreaterThan(0));
        Assert.That(classic.Echoes, Is.GreaterThanOrEqualTo(classic.Marks), "ECE on every ACK from a mark until the CWR");
        Assert.That(classic.Drops, Is.LessThan(off.Drops));
        Assert.That((off.Marks, off.Echoes), Is.EqualTo((0L, 0L)), "tcp_ecn = 2 only accepts ECN, and cubic does not need it");
    }

    private sealed class MarkNthData(long n) : QueueDiscipline
    {
        private long _data;

        protected override QueueVerdict Admit(ref Packet packet, long now) =>
            packet.PayloadBytes > 0 && ++_data == n && IsEcnCapable(packet) ? QueueVerdict.Marked : QueueVerdict.Enqueued;
    }

    /// <summary>Records the ACKs on their way to the sender.</summary>
    private sealed class AckTap(Network net, IPacketSink sender) : IPacketSink
    {
        public List<(uint Ack, bool Ece)> Acks { get; } = [];

        public void Receive(int packet)
        {
            var segment = net.Packets[packet].Segment;
            if ((segment.Flags & TcpFlags.Syn) == 0)
            {
                Acks.Add((segment.Ack, (segment.Flags & TcpFlags.Ece) != 0));
            }
            sender.Receive(packet);
        }
    }

    [TestCase(60)]
    [TestCase(61)]
    public void DctcpReceiver_CeChange_AcksThePriorDataWithTheOldState_ThenTheNewAtOnce(int marked)
    {
        // One CE mark on data segment n (1-based). The receiving socket's dctcp_ece_ack_update first sends the
        // delayed ACK, if one is pending, for the data before (prior_rcv_nxt) without ECE, then ACKs segment n at
        // once with ECE, and segment n + 1 (no CE: a change back) at once without. Two neighbouring n cover both
        // phases of the every-second-segment delayed ACK.
        var sim = new TcpTestSystem();
        var net = new Network(sim.Bpf.Simulator, 1);
        var forward = net.AddLink("fwd", 100_000_000, SimTime.FromMilliseconds(5), new MarkNthData(marked));
        var back = net.AddLink("back", 100_000_000, SimTime.FromMilliseconds(5), new DropTailQueue(1000));
        var stack = new TcpStack(net, sim.Registry, bpf: sim.Bpf);
        AckTap? tap = null;
        stack.Open((sender, receiver) =>
        {
            tap = new AckTap(net, sender);
            int f = net.AddRoute([forward], net.AddSink(receiver));
            int r = net.AddRoute([back], net.AddSink(tap));
            return new FlowPath(f, r, SimTime.FromMilliseconds(10));
        }, "dctcp", SimTime.Zero, out _, bytes: 200 * 1448).ThrowIfFailed();
        sim.Bpf.Simulator.RunUntil(SimTime.FromSeconds(2));

        uint End(int segment) => (uint)(1 + segment * 1448);
        var acks = tap!.Acks;
        int first = acks.FindIndex(a => a.Ece);
        Assert.That(first, Is.GreaterThan(0));
        Assert.That(acks[first], Is.EqualTo((End(marked), true)), "segment n at once, with ECE");
        Assert.That(acks[first - 1], Is.EqualTo((End(marked - 1), false)), "everything before n acknowledged first, without ECE");
        Assert.That(acks[first + 1], Is.EqualTo((End(marked + 1), false)), "the change back: segment n + 1 at once, without ECE");
        Assert.That(acks.Count(a => a.Ece), Is.EqualTo(1));
    }

    [Test]
    public void NeedsEcn_StepMarking_ReactsToEceWithoutDrops()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new EcnThresholdQueue(k: 20, limitPackets: 250) });
        sc.System.Register(new EcnReno());
        var flow = sc.Flow("ecn_reno");
        sc.RunFor(10);
        var bottleneck = sc.Bell.Bottleneck.Stats;
        TestContext.Out.WriteLine($"marks {bottleneck.EcnMarks}, drops {bottleneck.QueueDrops}, echoes {flow.Stats.EcnEchoes}, goodput {TcpScenario.GoodputMbps(flow, 10):0.0}");
        Assert.That(bottleneck.EcnMarks, Is.GreaterThan(0));
        Assert.That(bottleneck.QueueDrops, Is.Zero, "the sender backs off on ECE before the queue fills");
        Assert.That(flow.Stats.EcnEchoes, Is.GreaterThan(0));
        Assert.That(flow.Stats.Retransmits, Is.Zero);
        // Halving on every marked window with K far below the BDP costs throughput: the problem DCTCP solves.
        Assert.That(TcpScenario.GoodputMbps(flow, 10), Is.GreaterThan(50));
    }

    [Test]
    public void StructOpsLifecycle_RefcntFollowsSockets_UnregisterMidRun_FreedAfterLastFlow()
    {
        var sc = new TcpScenario();
        var loaded = sc.System.Register(new BpfMinimal());
        var map = loaded.Map;
        var flows = new List<TcpConnection>();
        for (int i = 0; i < 6; i++)
        {
            flows.Add(sc.Flow("bpf_minimal", startS: 0.1 * i, bytes: 500_000 * (i + 1)));
        }
        long Open() => flows.Count(f => f.State != TcpConnectionState.Closed);
        var violations = new List<string>();
        bool deleting = false; // delete_elem holds the registration's reference until unreg (and its grace period) returns
        sc.Stack.Updated += _ =>
        {
            long expected = Open() + (map.State == StructOpsState.InUse || deleting ? 1 : 0);
            if (map.ReportedRefCount != expected)
            {
                violations.Add($"t={sc.Sim.Now}: refcnt {map.ReportedRefCount}, expected {expected}");
            }
        };
        sc.RunFor(0.3);
        Assert.That(map.ReportedRefCount, Is.EqualTo(Open() + 1));
        deleting = true;
        loaded.Unregister().ThrowIfFailed();
        deleting = false;
        loaded.Dispose();
        Assert.That(map.State, Is.EqualTo(StructOpsState.ToBeFree));
        Assert.That(sc.Stack.Open((s, r) => sc.Bell.AddFlow(s, r), "bpf_minimal", sc.Sim.Now, out _).Errno, Is.EqualTo(Errno.ENOENT),
            "new sockets cannot choose it");
        sc.RunFor(20);
        Assert.That(flows.All(f => f.State == TcpConnectionState.Closed));
        Assert.That(violations, Is.Empty);
        Assert.That(map.IsFreed, Is.True, "freed after the last flow closed");
        Assert.That(map.MaxReportedRefCount, Is.GreaterThanOrEqualTo(4));
    }

    [Test]
    public void Cubic_OneBdpBuffer_KeepsTheBottleneckAbove95Percent()
    {
        // 100 Mbit/s, RTT 2 × (1 + 8 + 1) ms = 20 ms, a one-BDP buffer: 100e6 × 0.02 / 8 / 1500 ≈ 166 packets.
        var sc = new TcpScenario(new DumbbellOptions
        {
            BottleneckDelay = SimTime.FromMilliseconds(8),
            AccessDelay = SimTime.FromMilliseconds(1),
            BottleneckQueue = _ => new DropTailQueue(166),
        });
        var flow = sc.Flow("cubic");
        sc.RunFor(5); // past slow start
        long busyBefore = sc.Bell.Bottleneck.Stats.BusyNs;
        long bytesBefore = flow.Stats.BytesAcked;
        sc.RunFor(25);
        double utilization = (sc.Bell.Bottleneck.Stats.BusyNs - busyBefore) / 25e9;
        double goodput = (flow.Stats.BytesAcked - bytesBefore) * 8 / 25.0 / 1e6;
        TestContext.Out.WriteLine($"cubic: utilization {utilization:0.000}, goodput {goodput:0.0} Mbit/s, retrans {flow.Stats.Retransmits}, timeouts {flow.Stats.Timeouts}");
        Assert.That(utilization, Is.GreaterThanOrEqualTo(0.95));
        Assert.That(flow.Stats.Timeouts, Is.Zero);
    }

    [TestCase("step")]
    [TestCase("red")]
    public void RegisteredBpfDctcp_CompetesWithBuiltinCubic_OnOneBottleneck(string aqm)
    {
        var sc = new TcpScenario(new DumbbellOptions
        {
            BottleneckQueue = aqm == "step"
                ? _ => new EcnThresholdQueue(k: 30, limitPackets: 250)
                : random => new RedQueue(20, 60, 0.1, limitPackets: 250, ecn: true, random),
        });
        var loaded = sc.System.Register(ConsumerCatalog.Create(sc.System.Catalog.Find("bpf_dctcp")!));
        var dctcp = sc.Flow("bpf_dctcp");
        var cubic = sc.Flow("cubic");
        sc.RunFor(2);
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(2), "registration + the dctcp socket");
        sc.RunFor(18);
        var link = sc.Bell.Bottleneck.Stats;
        double d = TcpScenario.GoodputMbps(dctcp, 20), c = TcpScenario.GoodputMbps(cubic, 20);
        TestContext.Out.WriteLine($"{aqm}: bpf_dctcp {d:0.0} Mbit/s (echoes {dctcp.Stats.EcnEchoes}, retrans {dctcp.Stats.Retransmits}), " +
                                  $"cubic {c:0.0} Mbit/s (retrans {cubic.Stats.Retransmits}); marks {link.EcnMarks}, drops {link.QueueDrops}");
        Assert.That(dctcp.Stats.EcnEchoes, Is.GreaterThan(0), "DCTCP sees marks");
        Assert.That(d + c, Is.GreaterThan(85), "together they fill the link");
        if (aqm == "step")
        {
            // A step threshold far below the drop limit marks DCTCP on every window while loss-based CUBIC keeps
            // the queue above K: DCTCP starves — the coexistence problem that motivated L4S's separate queues.
            Assert.That(c, Is.GreaterThan(10 * d));
        }
        else
        {
            Assert.That(Math.Min(d, c), Is.GreaterThan(5), "RED signals both at the same queue level");
        }
    }

    [StructOps("tcp_congestion_ops", Name = "undo_counter")]
    private sealed class UndoCounter : TcpCongestionOpsProgram
    {
        public int Undos { get; private set; }

        public List<string> States { get; } = [];

        public override void SetState(ref TcpSock sk, TcpCaState newState) => States.Add($"{sk.IcskCaState}->{newState} cwnd {sk.SndCwnd} una {sk.SndUna}");

        public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

        public override uint UndoCwnd(ref TcpSock sk)
        {
            Undos++;
            return TcpCongKfuncs.RenoUndoCwnd(ref sk);
        }
    }

    [Test]
    public void SpuriousRto_DetectedByTimestamps_UndoCwndRestoresTheWindow()
    {
        // A 1 ms minimum RTO; the flow connects at 0.99 s, and at 1 s a burst of 3000 packets from elsewhere lands in
        // the deep bottleneck queue: the flow's first window waits ~360 ms behind it, its RTO (srtt + rttvar ≈ 72 ms)
        // fires although nothing was lost, and the ACKs of the
        // originals echo timestamps older than the retransmission (tcp_packet_delayed): tcp_try_undo_loss calls undo_cwnd.
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new DropTailQueue(5000) },
            stack: new TcpStackOptions { MinRto = SimTime.FromMilliseconds(1) });
        var counter = new UndoCounter();
        sc.System.Register(counter);
        var flow = sc.Flow("undo_counter", startS: 0.99, bytes: 100_000);
        var drain = new Drain(sc.Net);
        int burstRoute = sc.Net.AddRoute([sc.Bell.Bottleneck], sc.Net.AddSink(drain));
        sc.Sim.Schedule(SimTime.FromSeconds(1), () =>
        {
            for (int i = 0; i < 3000; i++)
            {
                int p = sc.Net.Packets.Allocate();
                sc.Net.Packets[p].Route = burstRoute;
                sc.Net.Packets[p].SizeBytes = 1500;
                sc.Net.Send(p);
            }
        });
        sc.RunFor(10);
        TestContext.Out.WriteLine($"timeouts {flow.Stats.Timeouts}, undos {flow.Stats.Undos}, undo_cwnd calls {counter.Undos}");
        TestContext.Out.WriteLine(string.Join("\n", counter.States.Take(20)));
        Assert.That(counter.States, Has.Some.StartsWith("Loss->Open"), "left Loss by undo");
        Assert.That(flow.Stats.Timeouts, Is.GreaterThan(0), "the short RTO fired");
        Assert.That(flow.Stats.Undos, Is.GreaterThan(0));
        Assert.That(counter.Undos, Is.EqualTo(flow.Stats.Undos), "each undo goes through the algorithm's undo_cwnd");
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(100_000));
    }

    private sealed class Drain(Network net) : IPacketSink
    {
        public void Receive(int packet) => net.Packets.Free(packet);
    }
}
