using System.Buffers.Binary;
using BpfSim.Programs.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// bpf_cubic and bpf_dctcp register through struct_ops and, on the same scripted calls, behave as the built-ins they
/// port, as the selftests' copies behave like net/ipv4's originals. bpf_dctcp is a port of its own, so comparing it
/// with dctcp compares two implementations; bpf_cubic shares CubicMath with cubic, so both are also held to CUBIC's
/// function; and both DCTCPs to the kernel's alpha and ssthresh formulas worked by hand.
/// </summary>
[Category("Tcp")]
public sealed class BpfCcEquivalenceTests
{
    private static TcpCongestionOps RegisterAndAcquire(TcpTestSystem sys, object consumer, string name)
    {
        sys.Register(consumer);
        sys.Registry.TryAcquire(name, out var ca).ThrowIfFailed();
        Assert.That(ca.IsBpf, Is.True);
        return ca;
    }

    /// <summary>
    /// Slow start to a HyStart exit, a fast recovery, growth along the curve, an idle restart, an RTO and its undo.
    /// RTTs are whole milliseconds, where bpf_cubic's microsecond t equals the kernel's jiffies t.
    /// </summary>
    private static void CubicScript(AckClock clock)
    {
        for (int i = 0; i < 8 && clock.Sk.InSlowStart; i++)
        {
            clock.Round(20_000, spacingUs: 50);
        }
        Assert.That(CubicMath.Ca(ref clock.Sk).Found, Is.EqualTo(1), "HyStart's ACK train ended slow start");
        for (int i = 0; i < 20; i++)
        {
            clock.Round(20_000);
        }
        clock.EnterRecovery();
        clock.EndReduction();
        for (int i = 0; i < 150; i++)
        {
            clock.Round(20_000);
        }
        clock.IdleThenSend(3_000_000);
        for (int i = 0; i < 50; i++)
        {
            clock.Round(20_000);
        }
        clock.Rto();
        clock.Undo();
        for (int i = 0; i < 20; i++)
        {
            clock.Round(20_000);
        }
    }

    [Test]
    public void BpfCubic_SameCwndSequenceAsCubic()
    {
        var sys = new TcpTestSystem();
        var program = new BpfCubic();
        var bpf = new AckClock(RegisterAndAcquire(sys, program, "bpf_cubic"));
        var builtin = new AckClock(Cubic.Ops);
        CubicScript(bpf);
        CubicScript(builtin);
        Assert.That(builtin.Trace.Max(), Is.GreaterThan(100u), "the script leaves slow start and grows along the curve");
        Assert.That(bpf.Trace, Is.EqualTo(builtin.Trace));
        Assert.That(program.AckedCalled, Is.True, "bpf_cubic_acked_called");
    }

    /// <summary>
    /// Windows with growing CE fractions, an ECN reduction, CE runs at the receiver (some with a delayed ACK pending,
    /// which makes DCTCP send the prior-state ACK through tcp_send_ack), a fast recovery, an RTO and its undo.
    /// </summary>
    private static void DctcpScript(AckClock clock, List<(uint RcvNxt, byte EcnFlags)> sentAcks)
    {
        for (int i = 0; i < 6; i++)
        {
            clock.Round(1_000, cePerWindow: (uint)i);
        }
        clock.EnterCwr();
        clock.EndReduction();
        var previous = TcpCongKfuncs.AckOutput;
        TcpCongKfuncs.AckOutput = (ref TcpSock tp, uint rcvNxt) => sentAcks.Add((rcvNxt, tp.EcnFlags));
        try
        {
            for (int i = 0; i < 40; i++)
            {
                clock.Round(1_000, cePerWindow: clock.Sk.SndCwnd / 10);
                clock.Sk.RcvNxt += AckClock.Mss;
                clock.Sk.IcskAckPending = i % 4 == 1 ? IcskAck.Timer : (byte)0;
                clock.Event(i % 3 == 0 ? TcpCaEvent.EcnIsCe : TcpCaEvent.EcnNoCe);
            }
        }
        finally
        {
            TcpCongKfuncs.AckOutput = previous;
        }
        clock.EnterRecovery();
        clock.EndReduction();
        clock.Rto();
        clock.Undo();
        for (int i = 0; i < 10; i++)
        {
            clock.Round(1_000, cePerWindow: 2);
        }
    }

    /// <summary>
    /// The built-in dctcp (a port of net/ipv4/tcp_dctcp.c) and bpf_dctcp (ported separately from the selftest) on the
    /// same calls: after every ACK, reduction and event the socket is the same, icsk_ca_priv byte for byte, and the
    /// same prior-state ACKs go out.
    /// </summary>
    [Test]
    public void BpfDctcp_NeedsEcn_SameSocketAfterEveryAckAsDctcp()
    {
        var sys = new TcpTestSystem();
        var ca = RegisterAndAcquire(sys, new BpfDctcp(), "bpf_dctcp");
        Assert.That(ca.Flags, Is.EqualTo(TcpCongFlags.NeedsEcn));
        var bpf = new AckClock(ca);
        var builtin = new AckClock(Dctcp.Ops);
        List<(uint, byte)> bpfAcks = [], builtinAcks = [];
        DctcpScript(bpf, bpfAcks);
        DctcpScript(builtin, builtinAcks);
        Assert.That(builtin.Steps, Has.Count.GreaterThan(300));
        Assert.That(builtin.Steps.Select(s => Alpha(s.CaPriv)).Distinct().Count(), Is.GreaterThan(5), "alpha moves");
        Assert.That(builtinAcks, Is.Not.Empty, "a delayed ACK was pending at some CE change");
        var diverged = bpf.Steps.Zip(builtin.Steps).FirstOrDefault(p => p.First != p.Second);
        Assert.That(diverged, Is.EqualTo(default((AckClockStep, AckClockStep))), "first step where bpf_dctcp and dctcp differ");
        Assert.That(bpf.Steps, Has.Count.EqualTo(builtin.Steps.Count));
        Assert.That(bpfAcks, Is.EqualTo(builtinAcks), "tcp_send_ack calls (rcv_nxt, ecn_flags)");
    }

    /// <summary>dctcp_alpha, the fourth u32 of <c>struct dctcp</c> in icsk_ca_priv.</summary>
    private static uint Alpha(string caPrivHex) => BinaryPrimitives.ReadUInt32LittleEndian(Convert.FromHexString(caPrivHex).AsSpan(12));

    private static uint PrivU32(ref TcpSock sk, int index) =>
        BinaryPrimitives.ReadUInt32LittleEndian(((ReadOnlySpan<byte>)sk.IcskCaPriv)[(4 * index)..]);

    private static TcpCongestionOps DctcpOps(string name)
    {
        if (name == "dctcp")
        {
            return Dctcp.Ops;
        }
        var sys = new TcpTestSystem();
        return RegisterAndAcquire(sys, new BpfDctcp(), "bpf_dctcp");
    }

    /// <summary>
    /// Both ports against the kernel's formulas worked by hand, g = 1/16 (dctcp_shift_g = 4):
    /// alpha ← alpha − min_not_zero(alpha, alpha >> 4) + (delivered_ce &lt;&lt; 6) / delivered, once per window;
    /// ssthresh = max(cwnd − ((cwnd · alpha) >> 11), 2).
    /// </summary>
    [TestCase("dctcp")]
    [TestCase("bpf_dctcp")]
    public void Dctcp_AlphaAndSsthresh_FollowTheKernelFormulaByHand(string name)
    {
        var ops = DctcpOps(name);
        const int OldDelivered = 0, OldDeliveredCe = 1, Alpha = 3, NextSeq = 4, LossCwnd = 6;
        const uint Mss = 1448;
        var sk = TcpTestSystem.Socket(cwnd: 10);
        sk.EcnFlags = TcpEcnFlags.Ok;
        sk.SndUna = 1;
        sk.SndNxt = 1 + 30 * Mss;
        ops.Init!(ref sk);
        Assert.That((PrivU32(ref sk, Alpha), PrivU32(ref sk, NextSeq)), Is.EqualTo((1024u, 1 + 30 * Mss)), "alpha starts at 1.0; window ends at snd_nxt");

        sk.SndUna = 1 + 20 * Mss;
        sk.Delivered = 20;
        sk.DeliveredCe = 5;
        ops.InAckEvent!(ref sk, 0);
        Assert.That(PrivU32(ref sk, Alpha), Is.EqualTo(1024u), "snd_una before next_seq: the window is still open");

        sk.SndUna = 1 + 30 * Mss;
        sk.Delivered = 30;
        sk.DeliveredCe = 15;
        ops.InAckEvent!(ref sk, 0);
        // 1024 − 64 + (15 << 6) / 30 = 960 + 32
        Assert.That(PrivU32(ref sk, Alpha), Is.EqualTo(992u));
        Assert.That((PrivU32(ref sk, OldDelivered), PrivU32(ref sk, OldDeliveredCe), PrivU32(ref sk, NextSeq)), Is.EqualTo((30u, 15u, 1 + 30 * Mss)));

        sk.SndCwnd = 20;
        // 20 − (20 · 992 >> 11) = 20 − (19840 >> 11) = 20 − 9
        Assert.That(ops.Ssthresh!(ref sk), Is.EqualTo(11u));
        Assert.That(PrivU32(ref sk, LossCwnd), Is.EqualTo(20u), "loss_cwnd for undo");

        sk.Delivered = 50;
        ops.InAckEvent!(ref sk, 0);
        // no CE: 992 − (992 >> 4) = 992 − 62
        Assert.That(PrivU32(ref sk, Alpha), Is.EqualTo(930u));

        sk.Delivered = 57;
        sk.DeliveredCe = 15 + 7;
        ops.InAckEvent!(ref sk, 0);
        // all 7 marked: 930 − 58 + (7 << 6) / 7 = 872 + 64
        Assert.That(PrivU32(ref sk, Alpha), Is.EqualTo(936u));

        sk.Delivered = 60;
        sk.DeliveredCe = 22 + 1;
        ops.InAckEvent!(ref sk, 0);
        // 936 − 58 + (1 << 6) / 3 = 878 + 21
        Assert.That(PrivU32(ref sk, Alpha), Is.EqualTo(899u));

        for (int i = 0; i < 200; i++)
        {
            sk.Delivered += 10;
            ops.InAckEvent!(ref sk, 0);
        }
        // min_not_zero: once alpha < 16, alpha >> 4 is 0 and the whole of alpha goes, so alpha reaches 0.
        Assert.That(PrivU32(ref sk, Alpha), Is.Zero);
        sk.SndCwnd = 2;
        Assert.That(ops.Ssthresh!(ref sk), Is.EqualTo(2u));

        sk.Delivered += 4;
        sk.DeliveredCe += 4;
        for (int i = 0; i < 120; i++)
        {
            ops.InAckEvent!(ref sk, 0);
            sk.Delivered += 4;
            sk.DeliveredCe += 4;
        }
        // every packet marked: alpha gains 64 − alpha/16 per window (1 per window from 1008), up to 1024 − 64 + 64
        Assert.That(PrivU32(ref sk, Alpha), Is.EqualTo(1024u));
        sk.SndCwnd = 2;
        // 2 − (2 · 1024 >> 11) = 1, raised to the floor of 2
        Assert.That(ops.Ssthresh!(ref sk), Is.EqualTo(2u));
    }

    /// <summary>
    /// bpf_cubic and cubic share CubicMath, so comparing them says nothing about CubicMath itself: here both are held
    /// to CUBIC's own definition (RFC 9438, with net/ipv4/tcp_cubic.c's constants β = 717/1024 and C = 410/1024).
    /// A loss at cwnd 100 with no earlier maximum sets ssthresh = 100·717/1024 = 70 and W_max = 100; from there the
    /// window follows W(t) = C·(t − K)³ + W_max with K = ∛(W_max·(1 − β)/C) ≈ 4.2 s, flat around W_max at t = K.
    /// A second loss below W_max (fast convergence) remembers W_max = cwnd·(1 + β)/2.
    /// </summary>
    [TestCase("cubic")]
    [TestCase("bpf_cubic")]
    public void Cubic_AfterALoss_FollowsTheCubicFunction(string name)
    {
        var sys = new TcpTestSystem();
        var ops = name == "cubic" ? Cubic.Ops : RegisterAndAcquire(sys, new BpfCubic(), "bpf_cubic");
        var clock = new AckClock(ops, cwnd: 100);
        clock.Sk.SndSsthresh = 50;
        clock.EnterRecovery();
        Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(70u), "⌊100 · 717 / 1024⌋");
        clock.EndReduction();

        const double C = 410.0 / 1024, Beta = 717.0 / 1024, WMax = 100;
        double k = Math.Cbrt(WMax * (1 - Beta) / C);
        clock.Round(100_000);
        ref var ca = ref CubicMath.Ca(ref clock.Sk);
        Assert.That(ca.LastMaxCwnd, Is.EqualTo(100u));
        Assert.That(ca.BicOriginPoint, Is.EqualTo(100u));
        Assert.That(ca.BicK / 1024.0, Is.EqualTo(k).Within(0.5).Percent, "K in 1/1024 s (cubic_root errs by about 0.2%)");

        ulong epochUs = clock.NowUs - 100_000;
        var deviations = new List<string>();
        while (clock.NowUs - epochUs < 7_000_000)
        {
            clock.Round(100_000);
            double t = (clock.NowUs - epochUs) / 1e6;
            double w = C * Math.Pow(t - k, 3) + WMax;
            if (Math.Abs(clock.Sk.SndCwnd - w) > 2)
            {
                deviations.Add($"t={t:0.0} s: cwnd {clock.Sk.SndCwnd}, W(t) {w:0.0}");
            }
        }
        Assert.That(deviations, Is.Empty, "cwnd within 2 packets of W(t) at the end of every round");
        Assert.That(clock.Sk.SndCwnd, Is.GreaterThan(105u), "past K the curve turns convex: W(7 s) = 108.6");

        clock.Sk.SndCwnd = 80;
        ca.LastMaxCwnd = 100;
        clock.EnterRecovery();
        Assert.That(CubicMath.Ca(ref clock.Sk).LastMaxCwnd, Is.EqualTo(68u), "⌊80 · (1024 + 717) / 2048⌋");
        Assert.That(clock.Sk.SndSsthresh, Is.EqualTo(56u), "⌊80 · 717 / 1024⌋");
    }

    /// <summary>
    /// The one arithmetic difference the selftest's comment calls equivalent: with ack_cnt an exact multiple of
    /// delta, <c>ack_cnt / delta</c> counts one more Reno increment than the kernel's loop, which stops at
    /// ack_cnt == delta.
    /// </summary>
    [Test]
    public void BpfCubic_FriendlinessAtExactMultiple_OneMoreRenoIncrementThanKernel()
    {
        var sys = new TcpTestSystem();
        var bpf = new AckClock(RegisterAndAcquire(sys, new BpfCubic(), "bpf_cubic"), cwnd: 16);
        var builtin = new AckClock(Cubic.Ops, cwnd: 16);
        foreach (var clock in new[] { bpf, builtin })
        {
            clock.Sk.SndSsthresh = 8;
            clock.Ack(clock.NowUs + 1000, 1, 1000);
            ref var state = ref CubicMath.Ca(ref clock.Sk);
            // delta = 16·15/8 = 30; an ACK 40 ms on (past the HZ/32 hold-off) brings ack_cnt to 60.
            state.AckCnt = 59;
            state.TcpCwnd = 16;
            clock.Ack(clock.NowUs + 40_000, 1, 1000);
        }
        Assert.That(CubicMath.Ca(ref builtin.Sk).TcpCwnd, Is.EqualTo(17u), "while (60 > 30): once");
        Assert.That(CubicMath.Ca(ref bpf.Sk).TcpCwnd, Is.EqualTo(18u), "60 / 30 = 2");
    }
}
