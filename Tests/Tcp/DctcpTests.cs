using System.Runtime.CompilerServices;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The built-in dctcp against net/ipv4/tcp_dctcp.c: alpha starts at 1, is an EWMA (g = 1/16) of the CE fraction
/// updated once per window, ECE reductions cut by alpha/2, losses halve like Reno, undo restores.
/// </summary>
[Category("Tcp")]
public sealed class DctcpTests
{
    private static ref DctcpState Ca(AckClock clock) => ref DctcpMath.Ca(ref clock.Sk);

    [Test]
    public void Init_AlphaOne_WindowFromSndNxt_NeedsEcn()
    {
        var clock = new AckClock(Dctcp.Ops);
        ref var ca = ref Ca(clock);
        Assert.That((ca.DctcpAlpha, ca.LossCwnd, ca.CeState, ca.NextSeq), Is.EqualTo((1024u, 0u, 0u, clock.Sk.SndNxt)));
        Assert.That(Dctcp.Ops.Flags, Is.EqualTo(TcpCongFlags.NeedsEcn));
        Assert.That(Unsafe.SizeOf<DctcpState>(), Is.EqualTo(28));
        Assert.That(Dctcp.NeedsRenoFallback(in clock.Sk), Is.False);
        Assert.That(Dctcp.NeedsRenoFallback(TcpTestSystem.Socket()), Is.True, "ECN not negotiated: dctcp-reno");
    }

    /// <summary>
    /// A quarter of the packets marked: alpha ← alpha − ⌊alpha/16⌋ + ⌊CE·64/delivered⌋ heads for 0.25·1024 = 256.
    /// A window ends one ACK early (next_seq is snd_nxt when the ACK that closes the last one arrives), so 99-packet
    /// windows carry 24 or 25 marks and add 15 or 16; with the ⌊alpha/16⌋ decay the fixed points lie in [240, 272).
    /// </summary>
    [Test]
    public void Alpha_QuarterMarked_ConvergesTo256()
    {
        var clock = new AckClock(Dctcp.Ops, cwnd: 100);
        clock.Sk.SndSsthresh = 100;
        clock.Sk.IsCwndLimited = false;
        var alphas = new List<uint>();
        for (int i = 0; i < 100; i++)
        {
            clock.Round(1_000, cePerWindow: 25);
            alphas.Add(Ca(clock).DctcpAlpha);
        }
        Assert.That(alphas[0], Is.EqualTo(1024u - 64 + 16), "first window: 1024·15/16 + 16");
        Assert.That(alphas.Take(60), Is.Ordered.Descending);
        Assert.That(alphas.TakeLast(30), Has.All.InRange(240u, 271u));
        Assert.That(clock.Ops.Ssthresh!(ref clock.Sk), Is.EqualTo(100u - (100u * alphas[^1] >> 11)));
    }

    [Test]
    public void Alpha_NoMarks_DecaysToZero_SmallAlphaDropsAtOnce()
    {
        var clock = new AckClock(Dctcp.Ops, cwnd: 20);
        clock.Sk.SndSsthresh = 20;
        clock.Sk.IsCwndLimited = false;
        var alphas = new List<uint>();
        for (int i = 0; i < 200 && Ca(clock).DctcpAlpha != 0; i++)
        {
            clock.Round(1_000);
            alphas.Add(Ca(clock).DctcpAlpha);
        }
        Assert.That(alphas.TakeLast(3), Is.EqualTo(new[] { 16u, 15u, 0u }), "min_not_zero(15, 15 >> 4) subtracts all of it");
    }

    [Test]
    public void Alpha_UpdatesOncePerWindow()
    {
        var clock = new AckClock(Dctcp.Ops, cwnd: 10);
        clock.Sk.SndSsthresh = 10;
        clock.Sk.IsCwndLimited = false;
        for (int i = 0; i < 9; i++)
        {
            clock.Ack(clock.NowUs + 100, 1, 1_000, ce: i < 5 ? 1u : 0u);
        }
        Assert.That(Ca(clock).DctcpAlpha, Is.EqualTo(1024u), "snd_una still before next_seq");
        uint sndNxt = clock.Sk.SndNxt;
        clock.Ack(clock.NowUs + 100, 1, 1_000);
        Assert.That(Ca(clock).DctcpAlpha, Is.EqualTo(1024u - 64 + (5u << 6) / 10), "half marked: 960 + 32");
        Assert.That((Ca(clock).NextSeq, Ca(clock).OldDelivered, Ca(clock).OldDeliveredCe), Is.EqualTo((sndNxt, 10u, 5u)));
    }

    [TestCase(1024u, 100u, 50u)]
    [TestCase(256u, 100u, 88u)]
    [TestCase(0u, 100u, 100u)]
    [TestCase(1024u, 3u, 2u)]
    public void Ssthresh_CutsByHalfAlpha_AtLeastTwo_RemembersCwnd(uint alpha, uint cwnd, uint expected)
    {
        var clock = new AckClock(Dctcp.Ops, cwnd);
        Ca(clock).DctcpAlpha = alpha;
        Assert.That(clock.Ops.Ssthresh!(ref clock.Sk), Is.EqualTo(expected));
        Assert.That(Ca(clock).LossCwnd, Is.EqualTo(cwnd));
    }

    [Test]
    public void Ece_CwrUsesAlpha_FastRecoveryHalves()
    {
        var cwr = new AckClock(Dctcp.Ops, cwnd: 100);
        Ca(cwr).DctcpAlpha = 256;
        cwr.EnterCwr();
        Assert.That(cwr.Sk.SndSsthresh, Is.EqualTo(88u), "ECE: cwnd·(1 − alpha/2)");

        var loss = new AckClock(Dctcp.Ops, cwnd: 100);
        Ca(loss).DctcpAlpha = 256;
        loss.EnterRecovery();
        Assert.That(loss.Sk.SndSsthresh, Is.EqualTo(50u), "set_state(Recovery) reacts to loss like Reno");
        loss.Sk.SndSsthresh = 77;
        loss.SetState(TcpCaState.Recovery);
        Assert.That(loss.Sk.SndSsthresh, Is.EqualTo(77u), "only on entering Recovery");
    }

    [Test]
    public void Loss_HalvesAndUndoRestores()
    {
        var clock = new AckClock(Dctcp.Ops, cwnd: 80);
        Ca(clock).DctcpAlpha = 128;
        clock.Rto();
        Assert.That((clock.Sk.SndSsthresh, Ca(clock).LossCwnd, clock.Sk.SndCwnd), Is.EqualTo((40u, 80u, 1u)), "CA_EVENT_LOSS: cwnd/2");
        clock.Undo();
        Assert.That(clock.Sk.SndCwnd, Is.EqualTo(80u), "max(cwnd, loss_cwnd)");
    }

    [Test]
    public void CongAvoid_IsReno()
    {
        var clock = new AckClock(Dctcp.Ops, cwnd: 10);
        clock.Round(1_000);
        Assert.That(clock.Sk.SndCwnd, Is.EqualTo(20u), "slow start doubles");
        clock.Sk.SndSsthresh = 20;
        clock.Round(1_000);
        Assert.That(clock.Sk.SndCwnd, Is.EqualTo(21u), "one packet per window");
    }

    [Test]
    public void CeStateMachine_DemandCwrFollowsState_ChangeForcesImmediateAck()
    {
        var clock = new AckClock(Dctcp.Ops);
        ref var sk = ref clock.Sk;
        sk.RcvNxt = 5000;
        Dctcp.Ops.CwndEvent!(ref sk, TcpCaEvent.EcnNoCe);
        Assert.That((sk.EcnFlags & TcpEcnFlags.DemandCwr, sk.IcskAckPending), Is.EqualTo((0, (byte)0)), "no change, no immediate ACK");

        Dctcp.Ops.CwndEvent!(ref sk, TcpCaEvent.EcnIsCe);
        Assert.That(sk.EcnFlags & TcpEcnFlags.DemandCwr, Is.EqualTo(TcpEcnFlags.DemandCwr));
        Assert.That(sk.IcskAckPending, Is.EqualTo(IcskAck.Now));
        Assert.That((Ca(clock).CeState, Ca(clock).PriorRcvNxt), Is.EqualTo((1u, 5000u)));

        sk.IcskAckPending = IcskAck.Timer;
        sk.RcvNxt = 9000;
        var sent = new List<(uint RcvNxt, bool Ece)>();
        TcpCongKfuncs.AckOutput = (ref TcpSock s, uint rcvNxt) => sent.Add((rcvNxt, (s.EcnFlags & TcpEcnFlags.DemandCwr) != 0));
        try
        {
            Dctcp.Ops.CwndEvent!(ref sk, TcpCaEvent.EcnNoCe);
        }
        finally
        {
            TcpCongKfuncs.AckOutput = null;
        }
        Assert.That(sent, Is.EqualTo(new[] { (5000u, true) }), "the delayed ACK goes out first: up to prior_rcv_nxt, with the old state's ECE");
        Assert.That(sk.EcnFlags & TcpEcnFlags.DemandCwr, Is.Zero);
        Assert.That(sk.IcskAckPending, Is.EqualTo(IcskAck.Timer | IcskAck.Now));
        Assert.That((Ca(clock).CeState, Ca(clock).PriorRcvNxt), Is.EqualTo((0u, 9000u)));
        Assert.That(sk.EcnFlags & TcpEcnFlags.Ok, Is.EqualTo(TcpEcnFlags.Ok), "other ECN bits untouched");
        Assert.Throws<InvalidOperationException>(() => TcpCongKfuncs.TcpSendAck(ref clock.Sk, 1), "tcp_send_ack exists only inside receive-side hooks");
    }

    /// <summary>
    /// tcp_input.c tcp_ack: tcp_in_ack_event runs after tcp_clean_rtx_queue (and tcp_rack_update_reo_wnd), so
    /// dctcp_update_alpha sees tp->delivered and delivered_ce with this ACK's cumulatively ACKed segments counted.
    /// Every data packet is CE-marked and echoed (DCTCP's receiver), so by tcp_dctcp.c each window's fraction is
    /// delivered_ce/delivered = 1 and alpha = min(alpha − alpha/16 + 64, 1024) stays 1024; ab_ecn = ab_tot > 0 at
    /// each update. Calling in_ack_event before the queue is cleaned makes the first window see no CE (alpha 960)
    /// and every in_ack_event see counters one ACK stale.
    /// </summary>
    [Test]
    public void InAckEvent_AfterCleanRtxQueue_AlphaSeesThisAcksDeliveries()
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckQueue = _ => new MarkAllData() }, stack: new TcpStackOptions { Ecn = 1 });
        var atEvent = new List<(uint Delivered, uint DeliveredCe)>();
        var afterAck = new List<(uint Delivered, uint DeliveredCe)>();
        var updates = new List<(uint Alpha, uint AbTot, uint AbEcn)>();
        (uint, uint)? pending = null;
        bool initialised = false; // the SYN-ACK's in_ack_event comes before init, on a zeroed state (as in Linux)
        var probe = new TcpCongestionOps
        {
            Name = "dctcp_order",
            Flags = TcpCongFlags.NeedsEcn,
            Init = (ref TcpSock sk) =>
            {
                DctcpMath.InitState(ref sk);
                initialised = true;
            },
            InAckEvent = (ref TcpSock sk, uint flags) =>
            {
                pending = (sk.Delivered, sk.DeliveredCe);
                ref var ca = ref DctcpMath.Ca(ref sk);
                bool windowEnds = !TcpTime.Before(sk.SndUna, ca.NextSeq);
                uint abTot = (sk.Delivered - ca.OldDelivered) * sk.MssCache, abEcn = (sk.DeliveredCe - ca.OldDeliveredCe) * sk.MssCache;
                DctcpMath.UpdateAlpha(ref sk, flags);
                if (windowEnds && initialised)
                {
                    updates.Add((ca.DctcpAlpha, abTot, abEcn));
                }
            },
            CwndEvent = DctcpMath.CwndEvent,
            Ssthresh = DctcpMath.Ssthresh,
            CongAvoid = TcpCongKfuncs.RenoCongAvoid,
            UndoCwnd = DctcpMath.UndoCwnd,
            SetState = DctcpMath.SetState,
        };
        Assert.That(sc.System.Registry.Register(probe).IsOk);
        var flow = sc.Flow("dctcp_order", bytes: 200 * 1448);
        sc.Stack.Updated += c =>
        {
            if (c == flow && pending is { } p)
            {
                ref var sk = ref sc.Stack.Sock(c.Id);
                atEvent.Add(p);
                afterAck.Add((sk.Delivered, sk.DeliveredCe));
                pending = null;
            }
        };
        sc.RunFor(3);

        Assert.That(flow.Stats.EcnEchoes, Is.GreaterThan(0));
        Assert.That(atEvent, Has.Count.GreaterThan(20));
        Assert.That(atEvent, Is.EqualTo(afterAck), "in_ack_event sees the counters this ACK leaves");
        Assert.That(updates, Has.Count.GreaterThan(3));
        Assert.That(updates.Select(u => u.Alpha), Is.All.EqualTo(1024u), "F = 1 every window: alpha stays 1.0");
        Assert.That(updates.Select(u => u.AbTot), Is.All.GreaterThan(0u));
        Assert.That(updates.Select(u => u.AbEcn), Is.EqualTo(updates.Select(u => u.AbTot)), "every delivered segment CE-marked");
    }

    /// <summary>CE-marks every ECN-capable data packet.</summary>
    private sealed class MarkAllData : QueueDiscipline
    {
        protected override QueueVerdict Admit(ref Packet packet, long now) =>
            packet.PayloadBytes > 0 && IsEcnCapable(packet) ? QueueVerdict.Marked : QueueVerdict.Enqueued;
    }
}
