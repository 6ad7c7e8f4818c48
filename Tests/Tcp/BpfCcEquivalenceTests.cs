using BpfSim.Programs.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// bpf_cubic and bpf_dctcp register through struct_ops and, on the same scripted calls, produce the same cwnd (and
/// private state) as the built-ins they port, as the selftests' copies behave like net/ipv4's originals.
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

    private static void DctcpScript(AckClock clock)
    {
        for (int i = 0; i < 6; i++)
        {
            clock.Round(1_000, cePerWindow: (uint)i);
        }
        clock.EnterCwr();
        clock.EndReduction();
        for (int i = 0; i < 40; i++)
        {
            clock.Round(1_000, cePerWindow: clock.Sk.SndCwnd / 10);
            clock.Ops.CwndEvent!(ref clock.Sk, i % 3 == 0 ? TcpCaEvent.EcnIsCe : TcpCaEvent.EcnNoCe);
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

    [Test]
    public void BpfDctcp_NeedsEcn_SameCwndSequenceAndStateAsDctcp()
    {
        var sys = new TcpTestSystem();
        var ca = RegisterAndAcquire(sys, new BpfDctcp(), "bpf_dctcp");
        Assert.That(ca.Flags, Is.EqualTo(TcpCongFlags.NeedsEcn));
        var bpf = new AckClock(ca);
        var builtin = new AckClock(Dctcp.Ops);
        DctcpScript(bpf);
        DctcpScript(builtin);
        Assert.That(bpf.Trace, Is.EqualTo(builtin.Trace));
        Assert.That(((ReadOnlySpan<byte>)bpf.Sk.IcskCaPriv).SequenceEqual(builtin.Sk.IcskCaPriv), Is.True, "icsk_ca_priv");
        Assert.That((bpf.Sk.EcnFlags, bpf.Sk.IcskAckPending), Is.EqualTo((builtin.Sk.EcnFlags, builtin.Sk.IcskAckPending)));
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
