using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Loss recovery as Linux 6.12 does it with its defaults (net.ipv4.tcp_recovery = 1, tcp_frto = 2): RACK
/// (net/ipv4/tcp_recovery.c), TLP (tcp_schedule_loss_probe / tcp_send_loss_probe in tcp_output.c), F-RTO
/// (tcp_process_loss), D-SACK (tcp_dsack_set, tcp_check_dsack) and undo (tcp_try_undo_*), and that tcp_recovery = 0
/// keeps the pre-RACK path. Paths are 100 Mbit/s with 5 ms each way unless a test says otherwise.
/// </summary>
[Category("Tcp")]
public sealed class LossRecoveryTests
{
    private static TcpStackOptions Recovery0 => new() { Recovery = 0, Frto = 0 };

    [Test]
    public void LostRetransmission_RepairedByRackWithoutRto()
    {
        // Segment 50 and its first retransmission are dropped. RACK marks the retransmission lost once segments sent
        // after it are SACKed and its RACK time is up (tcp_rack_detect_loss, TCPLostRetransmit) and it goes a third
        // time; without RACK the scoreboard never marks a retransmission lost again, so only the RTO repairs it.
        static (TcpConnection Flow, int Tx) Run(TcpStackOptions? options)
        {
            var path = new ScriptedPath(options);
            var flow = path.Open(bytes: 400 * ScriptedPath.Mss);
            path.Data.Drop.Add((50, 1));
            path.Data.Drop.Add((50, 2));
            path.RunFor(5);
            Assert.That(flow.Stats.BytesAcked, Is.EqualTo(400 * ScriptedPath.Mss), "every byte acknowledged");
            return (flow, path.Data.TxOf(50));
        }
        var (rack, tx) = Run(null);
        Assert.That((rack.Stats.Timeouts, rack.Stats.LostRetransmits, tx), Is.EqualTo((0L, 1L, 3)));
        Assert.That(rack.Stats.FastRecoveries, Is.EqualTo(1));
        var (old, _) = Run(Recovery0);
        Assert.That(old.Stats.Timeouts, Is.EqualTo(1), "tcp_recovery = 0: the lost retransmission waits for the RTO");
    }

    [Test]
    public void ReoTimeout_SendsRetransmissionsOnly_NoNewData()
    {
        // net/ipv4/tcp_recovery.c tcp_rack_reo_timeout: what the expired reordering window marks lost is sent by
        // tcp_xmit_retransmit_queue, never tcp_write_xmit, so no new data leaves on the timer even with room in cwnd.
        // Segment 7 of the initial window of 10 is dropped; 8 and 9 are SACKed (fewer than dupthresh, so RACK waits
        // min_rtt/4 and the REO timer marks 7). An algorithm with cong_control (so no PRR step) opens cwnd to 100 as
        // Recovery starts: the timer must send the one retransmission and nothing new until the next ACK.
        var path = new ScriptedPath();
        uint? atRecovery = null, atNextAck = null;
        var cc = new TcpCongestionOps
        {
            Name = "reo_room",
            Ssthresh = TcpCongKfuncs.RenoSsthresh,
            UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
            CongControl = (ref TcpSock sk, uint ack, int flag, in RateSample rs) =>
            {
                if (atRecovery is not null && atNextAck is null)
                {
                    atNextAck = sk.SndNxt;
                }
            },
            SetState = (ref TcpSock sk, TcpCaState state) =>
            {
                if (state == TcpCaState.Recovery && atRecovery is null)
                {
                    atRecovery = sk.SndNxt;
                    sk.SndCwnd = 100;
                }
            },
        };
        Assert.That(path.System.Registry.Register(cc).IsOk);
        var flow = path.Open("reo_room", bytes: 400 * ScriptedPath.Mss);
        path.Data.Drop.Add((7, 1));
        path.RunFor(2);
        Assert.That(flow.Stats.RackReoTimeouts, Is.EqualTo(1));
        Assert.That((flow.Stats.Retransmits, path.Data.TxOf(7)), Is.EqualTo((1L, 2)));
        Assert.That(atRecovery, Is.Not.Null);
        Assert.That(atNextAck, Is.EqualTo(atRecovery), "tcp_xmit_retransmit_queue sends no new data");
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(400 * ScriptedPath.Mss));
    }

    [Test]
    public void PartialUndoHoldBack_NoRetransmissionOnThatAck()
    {
        // net/ipv4/tcp_input.c tcp_fastretrans_alert: in Recovery, an ACK advancing snd_una whose hole was filled by
        // the delayed original (tcp_packet_delayed) while retransmissions are still out makes tcp_try_undo_partial
        // return true, and tcp_fastretrans_alert returns before tcp_identify_packet_loss and *rexmit = REXMIT_LOST:
        // tcp_xmit_recovery retransmits nothing and tcp_data_snd_check (tcp_write_xmit) sends only new data. Once the
        // retransmissions are ACKed the partial undo unmarks the rest (tcp_undo_cwnd_reduction(sk, true)).
        // Segments 100..119 arrive 3 ms late: RACK marks them all lost, PRR retransmits the first two before the
        // original of 100 is ACKed; from then on no segment of the block goes again.
        var path = new ScriptedPath();
        var flow = path.Open(bytes: 300 * ScriptedPath.Mss);
        for (long s = 100; s < 120; s++)
        {
            path.Data.Delay[(s, 1)] = SimTime.FromMilliseconds(3);
        }
        path.RunFor(3);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(300 * ScriptedPath.Mss));
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.PartialUndos, flow.Stats.Timeouts), Is.EqualTo((1L, 1L, 0L)));
        Assert.That(Enumerable.Range(100, 20).Select(s => path.Data.TxOf(s)),
            Is.EqualTo(Enumerable.Repeat(2, 2).Concat(Enumerable.Repeat(1, 18))), "only PRR's sends before the first original returned");
        Assert.That(flow.Stats.Retransmits, Is.EqualTo(2));
    }

    [Test]
    public void RtoRetransmissionAcked_TimestampRttResetsBackoff_RetransmitsCountedApart()
    {
        // net/ipv4/tcp_input.c tcp_ack_update_rtt: an ACK covering only a retransmission has no sequence RTT (Karn),
        // but with FLAG_ACKED and an echoed timestamp tcp_rtt_tsopt_us gives one; a valid sample recomputes icsk_rto
        // and resets icsk_backoff ("RFC6298: only reset backoff on valid RTT measurement"). icsk_retransmits is the
        // separate count of RTOs (tcp_update_rto_stats), zeroed by tcp_ack when snd_una advances. The last segment
        // of a 20-segment burst is lost twice (tcp_recovery = 0: no TLP), so two RTOs fire (backoff and retransmits
        // 1, then 2), and the ACK of the third transmission is an RTT sample of about one path RTT that leaves both
        // at 0.
        var path = new ScriptedPath(Recovery0);
        var flow = path.Open(writes: new TcpWritePattern(20 * ScriptedPath.Mss, SimTime.FromSeconds(2)));
        path.Data.Drop.Add((19, 1));
        path.Data.Drop.Add((19, 2));
        var log = new List<(long Ns, long Timeouts, ulong SndUna, long Samples, int Backoff, int Retransmits, uint SrttUs)>();
        path.Stack.Updated += c => log.Add((path.Sim.Now.Nanoseconds, c.Stats.Timeouts, c.SndUna, c.Stats.RttSamples, c.Backoff, c.Retransmits,
            path.Stack.Sock(c.Id).SrttUs));
        path.RunFor(1.5);

        var rtos = log.Where((e, i) => e.Timeouts > (i == 0 ? 0 : log[i - 1].Timeouts)).ToList();
        Assert.That(rtos.Select(e => (e.Timeouts, e.Backoff, e.Retransmits)), Is.EqualTo(new[] { (1L, 1, 1), (2L, 2, 2) }));
        int acked = log.FindIndex(e => e.SndUna == 20);
        Assert.That(acked, Is.GreaterThan(0));
        var (before, after) = (log[acked - 1], log[acked]);
        Assert.That(after.Samples, Is.EqualTo(before.Samples + 1), "the echoed timestamp gives the one RTT sample");
        Assert.That((after.Backoff, after.Retransmits), Is.EqualTo((0, 0)));
        long sampleUs = (long)(after.SrttUs - (before.SrttUs - (before.SrttUs >> 3))); // srtt_us += m − srtt/8 (×8 scale)
        Assert.That(sampleUs, Is.InRange(10_000L, 11_000L), "about the 10 ms path RTT of the third transmission");
    }

    [Test]
    public void TailLoss_RepairedByTlpProbe()
    {
        // The last segment of a 20-segment transfer is lost: nothing after it can be SACKed. The loss probe fires
        // after PTO = 2·srtt + 2 ms (several segments out), retransmits the last segment (no new data is queued) and the
        // transfer ends long before the 200 ms minimum RTO.
        var path = new ScriptedPath();
        var flow = path.Open(bytes: 20 * ScriptedPath.Mss);
        path.Data.Drop.Add((19, 1));
        path.RunFor(5);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That((flow.Stats.Timeouts, flow.Stats.LossProbes, flow.Stats.Retransmits), Is.EqualTo((0L, 1L, 1L)));
        Assert.That(path.Data.TxOf(19), Is.EqualTo(2));
        Assert.That(flow.EndTime.TotalSeconds, Is.LessThan(0.1), "well before TCP_RTO_MIN after the loss");
    }

    [Test]
    public void TlpNewDataProbe_AfterTsoDeferral_SendsTheCwndQuotaAsOneSkb()
    {
        // net/ipv4/tcp_output.c tcp_send_loss_probe sends new data through tcp_write_xmit(push_one = 2): one skb, with
        // tcp_cwnd_test's quota (min(cwnd/2, cwnd − in flight), forced to 1 only when the window is full) capped at
        // tcp_tso_segs, and no tcp_tso_should_defer. Here the last ACK that arrives (all later ones are lost) leaves
        // 4 segments of window that TSO deferral holds back for an ACK that never comes; at the PTO the probe sends
        // those 4 segments (cwnd 32, 28 in flight, tcp_tso_segs 5), not one MSS.
        var path = new ScriptedPath();
        var flow = path.Open(bytes: 2000 * ScriptedPath.Mss);
        path.Acks.DropIf = now => now >= 31_800_000;
        var log = new List<(long Probes, ulong SndNxt, uint Cwnd, uint InFlight, uint TsoSegs, ulong TlpHighSeg)>();
        path.Stack.Updated += c =>
        {
            var sk = path.Stack.Sock(c.Id);
            log.Add((c.Stats.LossProbes, c.SndNxt, sk.SndCwnd, sk.PacketsInFlight, sk.TsoSegs, c.TlpHighSeg));
        };
        path.RunFor(0.15);
        int probe = log.FindIndex(e => e.Probes == 1);
        Assert.That(probe, Is.GreaterThan(0), "a loss probe fired");
        var (before, after) = (log[probe - 1], log[probe]);
        Assert.That((before.Cwnd, before.InFlight, before.TsoSegs), Is.EqualTo((32u, 28u, 5u)), "the deferred state at the last ACK");
        Assert.That(after.SndNxt - before.SndNxt, Is.EqualTo(4UL), "min(cwnd/2, cwnd - in flight, tcp_tso_segs) segments");
        Assert.That(after.TlpHighSeg, Is.EqualTo(after.SndNxt));
        Assert.That(flow.Stats.Retransmits, Is.Zero, "new data: nothing retransmitted by the probe");
    }

    [Test]
    public void TlpRetransmission_NotCountedAsARegularRetransmission()
    {
        // tcp_send_loss_probe retransmits the last segment with __tcp_retransmit_skb, not tcp_retransmit_skb: the
        // segment gets TCPCB_EVER_RETRANS and total_retrans counts it, but it is not SACKED_RETRANS, so retrans_out,
        // undo_retrans and retrans_stamp stay as they were (tcp_init_undo adds the probe to undo_retrans by itself).
        var path = new ScriptedPath();
        var flow = path.Open(bytes: 20 * ScriptedPath.Mss);
        path.Data.Drop.Add((19, 1));
        (uint RetransOut, uint Stamp, int UndoRetrans, SegmentFlags Flags)? afterProbe = null;
        path.Stack.Updated += c =>
        {
            if (afterProbe is null && c.Stats.LossProbes == 1)
            {
                afterProbe = (path.Stack.Sock(c.Id).RetransOut, c.RetransStampUs, c.UndoRetrans, c.Segment(19).Flags);
            }
        };
        path.RunFor(5);
        Assert.That(flow.Stats.Retransmits, Is.EqualTo(1), "total_retrans counts the probe");
        Assert.That(afterProbe, Is.Not.Null);
        var (retransOut, stamp, undoRetrans, flags) = afterProbe!.Value;
        Assert.That((retransOut, stamp, undoRetrans), Is.EqualTo((0u, 0u, 0)));
        Assert.That(flags & (SegmentFlags.Retrans | SegmentFlags.EverRetrans), Is.EqualTo(SegmentFlags.EverRetrans));
    }

    [Test]
    public void TailLossOfABurst_ProbeRepairsIt_NextAckBeyondTheProbeReducesOnce()
    {
        // The application writes 20 segments every 200 ms; the last segment of the first burst is lost. The probe
        // retransmits it (tlp_retrans); when the next burst's ACK goes beyond tlp_high_seq the probe is known to have
        // repaired a loss: tcp_process_tlp_ack reduces cwnd through CWR (TCPLossProbeRecovery) without an RTO.
        var path = new ScriptedPath();
        var flow = path.Open(writes: new TcpWritePattern(20 * ScriptedPath.Mss, SimTime.FromMilliseconds(200)));
        path.Data.Drop.Add((19, 1));
        path.RunFor(0.5);
        Assert.That((flow.Stats.Timeouts, flow.Stats.LossProbes, flow.Stats.LossProbeRecoveries), Is.EqualTo((0L, 1L, 1L)));
        Assert.That(path.Stack.Sock(flow.Id).SndSsthresh, Is.LessThan(TcpSock.InfiniteSsthresh), "the reduction set ssthresh");
    }

    [Test]
    public void SpuriousRto_UndoneByFrto()
    {
        // Segment 60 is lost and, from the first duplicate ACK on, the ACK path stalls for 300 ms: the RTO fires
        // although the receiver holds everything after 60. When the ACKs come, the first SACKs never-retransmitted
        // data sent before the timeout (FLAG_ORIG_SACK_ACKED) without advancing snd_una, so timestamps cannot judge it:
        // F-RTO (RFC 5682 step 3.b) declares the RTO spurious and tcp_try_undo_loss(frto_undo) restores cwnd.
        static (TcpConnection Flow, ScriptedPath Path) Run(int frto)
        {
            var path = new ScriptedPath(new TcpStackOptions { Frto = frto });
            var flow = path.Open(bytes: 300 * ScriptedPath.Mss);
            path.Data.Drop.Add((60, 1));
            path.Acks.HoldFromFirstSack = SimTime.FromMilliseconds(300);
            path.RunFor(5);
            Assert.That(flow.Stats.BytesAcked, Is.EqualTo(300 * ScriptedPath.Mss));
            return (flow, path);
        }
        var (flow, path) = Run(frto: 2);
        Assert.That((flow.Stats.Timeouts, flow.Stats.SpuriousRtos), Is.EqualTo((1L, 1L)));
        Assert.That(flow.Stats.LossUndos, Is.EqualTo(1));
        Assert.That(path.UndoCalls, Is.EqualTo(1), "the algorithm's undo_cwnd restored the window");
        var (off, _) = Run(frto: 0);
        Assert.That((off.Stats.Timeouts, off.Stats.SpuriousRtos, off.Stats.LossUndos), Is.EqualTo((1L, 0L, 0L)), "tcp_frto = 0");
    }

    [Test]
    public void DsackUndo_WithdrawsTheCwrNotYetSent()
    {
        // Entering recovery queues a CWR for the next new data segment (tcp_ecn_queue_cwr). Here the application wrote
        // 30 segments, all sent before segment 25 was marked lost, so none carries it; when the D-SACK shows the
        // retransmission was spurious, tcp_undo_cwnd_reduction restores ssthresh and withdraws the CWR
        // (tcp_ecn_withdraw_cwr): there is no reduction left to announce, and the next write goes out without it.
        var path = new ScriptedPath(new TcpStackOptions { Ecn = 1 });
        var flow = path.Open(writes: new TcpWritePattern(30 * ScriptedPath.Mss, SimTime.FromSeconds(1)));
        path.Data.Delay[(25, 1)] = SimTime.FromMilliseconds(60);
        path.RunFor(0.5);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(30 * ScriptedPath.Mss));
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.DsackUndos), Is.EqualTo((1L, 1L)));
        byte ecn = path.Stack.Sock(flow.Id).EcnFlags;
        Assert.That(ecn & TcpEcnFlags.Ok, Is.Not.Zero, "ECN negotiated");
        Assert.That(ecn & TcpEcnFlags.QueueCwr, Is.Zero, "the undo withdrew the CWR");
    }

    [Test]
    public void DsackForSpuriousRetransmit_UndoesReduction()
    {
        // Segment 100 is held back 60 ms: RACK marks it lost (segments sent after it are SACKed and its RACK time is
        // up) and retransmits it; the retransmission fills the hole, so the timestamps of that ACK do not show the
        // original was merely late. Then the original arrives: the receiver reports it with a D-SACK below the ACK
        // (tcp_dsack_set), tcp_check_dsack counts undo_retrans down to 0, and tcp_try_undo_dsack undoes the reduction.
        var path = new ScriptedPath();
        var flow = path.Open(bytes: 2000 * ScriptedPath.Mss);
        path.Data.Delay[(100, 1)] = SimTime.FromMilliseconds(60);
        path.RunFor(5);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(2000 * ScriptedPath.Mss));
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.Retransmits, flow.Stats.Timeouts), Is.EqualTo((1L, 1L, 0L)));
        Assert.That((flow.Stats.DsacksReceived, flow.Stats.DsackUndos), Is.EqualTo((1L, 1L)));
        Assert.That(path.UndoCalls, Is.EqualTo(1));

        var old = new ScriptedPath(Recovery0);
        var oldFlow = old.Open(bytes: 2000 * ScriptedPath.Mss);
        old.Data.Delay[(100, 1)] = SimTime.FromMilliseconds(60);
        old.RunFor(5);
        Assert.That((oldFlow.Stats.DsacksReceived, oldFlow.Stats.Undos), Is.EqualTo((0L, 0L)), "tcp_recovery = 0 ignores D-SACKs");
    }

    [Test]
    public void ReorderingWithinWindow_NoRetransmit()
    {
        // Two segments arrive 2 ms late (about 17 segments of reordering) on a 20 ms path. The first time, RACK has
        // seen no reordering and sacked_out ≥ reordering, so its window is 0 and the segment is retransmitted
        // (spuriously; tcp_try_undo_partial records the reordering, reord_seen). The second time the window is
        // min_rtt/4 × reo_wnd_steps ≥ 5 ms: no retransmission. The dupthresh rule (tcp_recovery = 0) retransmits both.
        static (TcpConnection Flow, int FirstTx, int SecondTx) Run(TcpStackOptions? options)
        {
            var path = new ScriptedPath(options, oneWayMs: 10);
            var flow = path.Open(bytes: 3000 * ScriptedPath.Mss);
            path.Data.Delay[(100, 1)] = SimTime.FromMilliseconds(2);
            path.Data.Delay[(2000, 1)] = SimTime.FromMilliseconds(2);
            path.RunFor(5);
            Assert.That(flow.Stats.BytesAcked, Is.EqualTo(3000 * ScriptedPath.Mss));
            return (flow, path.Data.TxOf(100), path.Data.TxOf(2000));
        }
        var (rack, first, second) = Run(null);
        Assert.That((first, second), Is.EqualTo((2, 1)), "RACK: only the first reordering costs a retransmission");
        Assert.That(rack.ReordSeen, Is.GreaterThan(0));
        Assert.That(rack.Stats.Timeouts, Is.Zero);
        var (_, oldFirst, oldSecond) = Run(Recovery0);
        Assert.That((oldFirst, oldSecond), Is.EqualTo((2, 2)), "dupthresh: both");
    }

    [Test]
    public void HighReordering_SackOnlyAcksGrowCwnd()
    {
        // tcp_may_raise_cwnd: once tp->reordering exceeds sysctl_tcp_reordering, cwnd grows on any forward progress
        // (FLAG_FORWARD_PROGRESS), SACK-only ACKs included; before, only on ACKs that advance snd_una. Segment 100 is
        // 2 ms late (about 17 segments of reordering, recorded by tcp_try_undo_partial); segment 2000 is late again,
        // and the duplicate ACKs it causes, in Disorder, must now reach cong_avoid.
        var path = new ScriptedPath(oneWayMs: 10);
        uint lastAck = 0;
        int sackOnlyGrowth = 0;
        var ops = new BpfSim.Tcp.Congestion.TcpCongestionOps
        {
            Name = "count_ca",
            Ssthresh = BpfSim.Tcp.Congestion.TcpCongKfuncs.RenoSsthresh,
            UndoCwnd = BpfSim.Tcp.Congestion.TcpCongKfuncs.RenoUndoCwnd,
            CongAvoid = (ref TcpSock sk, uint ack, uint acked) =>
            {
                if (ack == lastAck)
                {
                    sackOnlyGrowth++;
                }
                lastAck = ack;
                BpfSim.Tcp.Congestion.TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
            },
        };
        Assert.That(path.System.Registry.Register(ops).IsOk);
        var flow = path.Open(cc: "count_ca", bytes: 3000 * ScriptedPath.Mss);
        path.Data.Delay[(100, 1)] = SimTime.FromMilliseconds(2);
        path.Data.Delay[(2000, 1)] = SimTime.FromMilliseconds(2);
        path.RunFor(5);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(3000 * ScriptedPath.Mss));
        Assert.That(flow.Reordering, Is.GreaterThan(3u), "reordering measured above the sysctl");
        Assert.That(sackOnlyGrowth, Is.GreaterThan(0), "SACK-only ACKs reached cong_avoid");
    }

    [Test]
    public void TcpRecoveryZero_KeepsDupthreshBehaviour()
    {
        // tcp_recovery = 0 is the pre-RACK stack: the third SACKed segment above a hole marks it lost (one fast
        // recovery), no loss probes or REO timers, and a tail loss waits for the RTO.
        var path = new ScriptedPath(Recovery0);
        var flow = path.Open(bytes: 200 * ScriptedPath.Mss);
        path.Data.Drop.Add((50, 1));
        path.Data.Drop.Add((199, 1));
        long markedAt = -1;
        path.Stack.Updated += c =>
        {
            if (markedAt < 0 && path.Stack.Sock(c.Id).LostOut > 0)
            {
                markedAt = path.Acks.Seen.Count;
            }
        };
        path.RunFor(5);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(200 * ScriptedPath.Mss));
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.Timeouts), Is.EqualTo((1L, 1L)));
        Assert.That((flow.Stats.LossProbes, flow.Stats.RackReoTimeouts, flow.Stats.DsacksReceived), Is.EqualTo((0L, 0L, 0L)));
        int firstSack = path.Acks.Seen.FindIndex(a => a.Blocks.Length > 0);
        Assert.That(markedAt - 1 - firstSack, Is.EqualTo(2), "marked lost on the third duplicate ACK (sysctl_tcp_reordering = 3)");
    }

    [Test]
    public void InWindowDsack_ClearsSackedRetransmission()
    {
        // tcp_sacktag_one with dup_sack: a SACKed retransmission that was not marked lost keeps SACKED_RETRANS (it is
        // believed still in flight, as after an undo that withdrew the loss marks); a D-SACK for it says that copy
        // arrived too, so SACKED_RETRANS goes and retrans_out drops. Segment 100 is never delivered, so the hole stays
        // and the D-SACK for 105 lies inside the SACK block above it.
        var path = new ScriptedPath();
        var flow = path.Open(bytes: 300 * ScriptedPath.Mss);
        for (int tx = 1; tx <= 30; tx++)
        {
            path.Data.Drop.Add((100, tx));
        }
        path.RunFor(0.1);
        ref var sk = ref path.Stack.Sock(flow.Id);
        ref var st = ref flow.Segment(105);
        Assert.That(st.Flags & SegmentFlags.Sacked, Is.EqualTo(SegmentFlags.Sacked));
        st.Flags |= SegmentFlags.Retrans | SegmentFlags.EverRetrans; // a SACKed retransmission not marked lost
        sk.RetransOut++;
        uint retransOut = sk.RetransOut;
        var last = path.Acks.Seen[^1];
        int p = path.Net.Packets.Allocate();
        ref var pk = ref path.Net.Packets[p];
        pk.Flow = 0;
        pk.SizeBytes = 64;
        pk.Segment.Flags = TcpFlags.Ack;
        pk.Segment.Ack = last.Ack;
        uint start = 1 + 105u * ScriptedPath.Mss;
        pk.Segment.SackCount = 2;
        ref var sacks = ref path.Net.Packets.SacksOf(p);
        (sacks.Sack0Start, sacks.Sack0End) = (start, start + ScriptedPath.Mss);
        (sacks.Sack1Start, sacks.Sack1End) = last.Blocks.First(b => b.Start <= start && b.End >= start + ScriptedPath.Mss);
        long dsacks = flow.Stats.DsacksReceived;
        path.Acks.Receive(p);
        Assert.That(flow.Stats.DsacksReceived, Is.EqualTo(dsacks + 1), "accepted as a D-SACK");
        Assert.That(flow.Segment(105).Flags & SegmentFlags.Retrans, Is.EqualTo((SegmentFlags)0));
        Assert.That(path.Stack.Sock(flow.Id).RetransOut, Is.EqualTo(retransOut - 1));
    }

    [Test]
    public void Receiver_DuplicateBelowRcvNxt_DsackBlockFirst()
    {
        // tcp_data_queue: a segment wholly below rcv_nxt is reported in a D-SACK block — the first block of the next
        // ACK, below its cumulative ACK (RFC 2883) — and sent once.
        var path = new ScriptedPath();
        path.Open(bytes: 300 * ScriptedPath.Mss);
        path.Data.Delay[(100, 1)] = SimTime.FromMilliseconds(60); // retransmitted first, then arrives again
        path.RunFor(5);
        uint start = 1 + 100u * ScriptedPath.Mss, end = start + ScriptedPath.Mss;
        var dsacks = path.Acks.Seen.Where(a => a.Blocks.Length > 0 && a.Blocks[0] == (start, end)).ToList();
        Assert.That(dsacks, Has.Count.EqualTo(1), "one ACK carries the D-SACK");
        Assert.That(dsacks[0].Ack, Is.GreaterThan(end), "below the cumulative ACK");
    }

    [Test]
    public void Receiver_OutOfOrderDuplicate_DsackInsideTheSackBlock()
    {
        // tcp_data_queue_ofo: a duplicate of queued out-of-order data is dropped with a D-SACK for it, followed by the
        // SACK block that contains it (RFC 2883 §4.2.1).
        var path = new ScriptedPath();
        path.Open(bytes: 300 * ScriptedPath.Mss);
        for (int tx = 1; tx <= 30; tx++)
        {
            path.Data.Drop.Add((100, tx)); // the hole stays open: 105 sits in the out-of-order queue
        }
        path.RunFor(0.1);
        Assert.That(path.Data.TxOf(105), Is.EqualTo(1));
        // Resend segment 105 by hand through the data path: a duplicate of out-of-order data.
        int p = path.Net.Packets.Allocate();
        ref var pk = ref path.Net.Packets[p];
        pk.Flow = 0;
        pk.PayloadBytes = ScriptedPath.Mss;
        pk.SizeBytes = ScriptedPath.Mss + 52;
        pk.Segment.Flags = TcpFlags.Ack;
        pk.Segment.Seq = 1 + 105u * ScriptedPath.Mss;
        int before = path.Acks.Seen.Count;
        path.Data.Receive(p);
        path.RunFor(0.02);
        var ack = path.Acks.Seen[before];
        uint start = 1 + 105u * ScriptedPath.Mss;
        Assert.That(ack.Blocks[0], Is.EqualTo((start, start + ScriptedPath.Mss)), "the D-SACK first");
        Assert.That(ack.Blocks.Length, Is.GreaterThan(1));
        Assert.That(ack.Blocks[1].Start, Is.LessThanOrEqualTo(start));
        Assert.That(ack.Blocks[1].End, Is.GreaterThanOrEqualTo(start + ScriptedPath.Mss), "inside the next block");
        Assert.That(ack.Ack, Is.EqualTo(1 + 100u * ScriptedPath.Mss), "above the cumulative ACK");
    }
}
