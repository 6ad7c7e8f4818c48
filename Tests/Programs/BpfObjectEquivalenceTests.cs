using System.Runtime.InteropServices;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Programs;

/// <summary>
/// bpfsim's BPF consumers, run by the interpreter (<see cref="BpfObjectRunner"/>), leave the socket exactly as the
/// built-in they port does, hook by hook: the same random sequence of calls and socket changes goes to the built-in
/// on one TcpSock and to the BPF object on another, and after every call the two sockets (cwnd, ssthresh, the private
/// area, everything) and the return values are byte-identical. Seeded and deterministic.
/// </summary>
[Category("Ebpf")]
public sealed class BpfObjectEquivalenceTests
{
    private const int Steps = 4000;

    private static TcpSock NewSock(Random rng)
    {
        var sk = new TcpSock
        {
            SndCwnd = TcpSock.InitCwnd,
            SndSsthresh = TcpSock.InfiniteSsthresh,
            SndCwndClamp = rng.Next(4) == 0 ? (uint)rng.Next(20, 400) : 0xffffffffu,
            TcpMstamp = (ulong)rng.NextInt64(1, 4_000_000_000_000),
            SndUna = (uint)rng.NextInt64(0, 1L << 32),
            MaxPacketsOut = 10,
            EcnFlags = TcpEcnFlags.Ok,
        };
        sk.SndNxt = sk.SndUna + 14480;
        sk.RcvNxt = (uint)rng.NextInt64(0, 1L << 32);
        sk.Lsndtime = sk.TcpJiffies32;
        return sk;
    }

    /// <summary>What the stack changes between calls, drawn once and applied to both sockets.</summary>
    private static void Perturb(Random rng, ref TcpSock a, ref TcpSock b)
    {
        ulong dt = rng.Next(10) switch
        {
            < 3 => 0,
            < 7 => (ulong)rng.Next(0, 3000),
            < 9 => (ulong)rng.Next(0, 120_000),
            _ => (ulong)rng.Next(0, 4_000_000),
        };
        uint acked = (uint)rng.Next(0, 64) * 1448;
        uint sent = (uint)rng.Next(0, 64) * 1448;
        bool limited = rng.Next(3) != 0;
        uint maxOut = (uint)rng.Next(0, (int)Math.Min(a.SndCwnd * 2 + 2, 100_000));
        ulong pacing = rng.Next(3) switch { 0 => 0, 1 => (ulong)rng.NextInt64(1, 1_000_000), _ => (ulong)rng.NextInt64(1, 20_000_000_000) };
        uint pacingStatus = (uint)rng.Next(3);
        int idle = rng.Next(8) == 0 ? rng.Next(-50, 5000) : -1;
        uint delivered = (uint)rng.Next(0, 80);
        uint ce = (uint)rng.Next(0, (int)delivered + 1) * (uint)(rng.Next(3) == 0 ? 1 : 0);
        byte ackPending = (byte)rng.Next(0, 32);
        uint rcv = (uint)rng.Next(0, 100_000);
        var state = (TcpCaState)rng.Next(0, 5);
        uint? cwnd = rng.Next(40) == 0 ? (uint)rng.Next(1, 5000) : null;
        Apply(ref a);
        Apply(ref b);

        void Apply(ref TcpSock sk)
        {
            sk.TcpMstamp += dt;
            sk.SndUna += acked;
            sk.SndNxt = sk.SndUna + sent;
            sk.IsCwndLimited = limited;
            sk.MaxPacketsOut = maxOut;
            sk.SkPacingRate = pacing;
            sk.SkPacingStatus = pacingStatus;
            if (idle >= 0)
            {
                sk.Lsndtime = sk.TcpJiffies32 - (uint)idle;
            }
            sk.Delivered += delivered;
            sk.DeliveredCe += ce;
            sk.IcskAckPending = ackPending;
            sk.RcvNxt += rcv;
            sk.IcskCaState = state;
            if (cwnd is { } c)
            {
                sk.SndCwnd = c;
            }
        }
    }

    private static void AssertSame(in TcpSock builtin, in TcpSock bpf, int step, string what)
    {
        var x = MemoryMarshal.AsBytes(new ReadOnlySpan<TcpSock>(in builtin)).ToArray();
        var y = MemoryMarshal.AsBytes(new ReadOnlySpan<TcpSock>(in bpf)).ToArray();
        if (!x.AsSpan().SequenceEqual(y))
        {
            Assert.Fail($"step {step} ({what}): the sockets differ: built-in cwnd={builtin.SndCwnd} ssthresh={builtin.SndSsthresh} " +
                $"cnt={builtin.SndCwndCnt} priv={Convert.ToHexString(MemoryMarshal.AsBytes(new ReadOnlySpan<CaPriv>(in builtin.IcskCaPriv)))}\n" +
                $"                   bpf cwnd={bpf.SndCwnd} ssthresh={bpf.SndSsthresh} cnt={bpf.SndCwndCnt} " +
                $"priv={Convert.ToHexString(MemoryMarshal.AsBytes(new ReadOnlySpan<CaPriv>(in bpf.IcskCaPriv)))}");
        }
    }

    [TestCase("bpf_cubic", 1)]
    [TestCase("bpf_cubic", 2)]
    [TestCase("bpf_cubic", 3)]
    [TestCase("bpf_cubic.v3", 4)]
    [TestCase("bpf_cubic.v3", 5)]
    public void BpfCubicC_EveryHook_LeavesTheSocketAsBuiltinCubic(string obj, int seed)
    {
        var ops = Cubic.Ops;
        var bpf = new BpfObjectRunner(obj);
        var rng = new Random(seed);
        var a = NewSock(rng);
        var b = a;
        ops.Init!(ref a);
        bpf.Run("init", ref b);
        AssertSame(a, b, 0, "init");
        var seen = new HashSet<string>();
        for (int step = 1; step <= 3 * Steps; step++)
        {
            Perturb(rng, ref a, ref b);
            string what;
            switch (rng.Next(16))
            {
                case < 7:
                {
                    uint ack = a.SndUna, acked = rng.Next(10) == 0 ? (uint)rng.Next(0, 500) : (uint)rng.Next(1, 4);
                    ops.CongAvoid!(ref a, ack, acked);
                    bpf.Run("cong_avoid", ref b, ack, acked);
                    what = "cong_avoid";
                    break;
                }
                case < 12:
                {
                    int rtt = rng.Next(8) switch { 0 => -1, 1 => 0, 2 => rng.Next(1, 200), _ => rng.Next(1000, 300_000) };
                    var sample = new AckSample((uint)rng.Next(1, 10), rtt, (uint)rng.Next(0, 100));
                    ops.PktsAcked!(ref a, in sample);
                    bpf.Run("pkts_acked", ref b, sample: sample);
                    what = "pkts_acked";
                    break;
                }
                case 12:
                {
                    uint x = ops.Ssthresh!(ref a), y = (uint)bpf.Run("ssthresh", ref b);
                    Assert.That(y, Is.EqualTo(x), $"step {step}: ssthresh");
                    a.SndSsthresh = b.SndSsthresh = x;
                    a.SndCwnd = b.SndCwnd = Math.Max(x, 1);
                    what = "ssthresh";
                    break;
                }
                case 13:
                {
                    var state = (TcpCaState)rng.Next(0, 5);
                    ops.SetState!(ref a, state);
                    bpf.Run("set_state", ref b, (ulong)state);
                    if (state == TcpCaState.Loss)
                    {
                        a.SndCwnd = b.SndCwnd = 1;
                    }
                    what = $"set_state {state}";
                    break;
                }
                case 14:
                {
                    var ev = (TcpCaEvent)rng.Next(0, 6);
                    ops.CwndEvent!(ref a, ev);
                    bpf.Run("cwnd_event", ref b, (ulong)ev);
                    what = $"cwnd_event {ev}";
                    break;
                }
                default:
                {
                    uint x = ops.UndoCwnd!(ref a), y = (uint)bpf.Run("undo_cwnd", ref b);
                    Assert.That(y, Is.EqualTo(x), $"step {step}: undo_cwnd");
                    what = "undo_cwnd";
                    break;
                }
            }
            AssertSame(a, b, step, what);
            seen.Add(what.Split(' ')[0]);
            ref var ca = ref a.CaPrivAs<CubicState>();
            if (ca.Found != 0)
            {
                seen.Add("hystart found");
            }
            if (ca.BicK != 0)
            {
                seen.Add("K > 0");
            }
        }
        TestContext.Out.WriteLine($"{bpf.InstructionsExecuted} BPF instructions; covered: {string.Join(", ", seen.Order())}");
        Assert.That(seen, Does.Contain("hystart found").And.Contain("K > 0"), "the sequence reaches HyStart's exit and a cubic epoch below W_max");
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void BpfDctcpC_EveryHook_LeavesTheSocketAsBuiltinDctcp(int seed)
    {
        var ops = Dctcp.Ops;
        var bpf = new BpfObjectRunner("bpf_dctcp");
        var builtinAcks = new List<(uint, byte)>();
        TcpCongKfuncs.AckOutput = (ref TcpSock tp, uint rcvNxt) => builtinAcks.Add((rcvNxt, tp.EcnFlags));
        try
        {
            var rng = new Random(seed);
            var a = NewSock(rng);
            var b = a;
            ops.Init!(ref a);
            bpf.Run("init", ref b);
            AssertSame(a, b, 0, "init");
            Assert.That(bpf.SetSockOpts, Is.Empty, "ECN was negotiated: no fallback");
            for (int step = 1; step <= Steps; step++)
            {
                Perturb(rng, ref a, ref b);
                string what;
                switch (rng.Next(12))
                {
                    case < 3:
                    {
                        uint ack = a.SndUna, acked = (uint)rng.Next(1, 4);
                        ops.CongAvoid!(ref a, ack, acked);
                        bpf.Run("cong_avoid", ref b, ack, acked);
                        what = "cong_avoid";
                        break;
                    }
                    case < 6:
                    {
                        uint flags = (uint)rng.Next(0, 8);
                        ops.InAckEvent!(ref a, flags);
                        bpf.Run("in_ack_event", ref b, flags);
                        what = "in_ack_event";
                        break;
                    }
                    case < 9:
                    {
                        var ev = rng.Next(4) == 0 ? (TcpCaEvent)rng.Next(0, 6) : (TcpCaEvent)rng.Next(4, 6);
                        ops.CwndEvent!(ref a, ev);
                        bpf.Run("cwnd_event", ref b, (ulong)ev);
                        what = $"cwnd_event {ev}";
                        break;
                    }
                    case 9:
                    {
                        uint x = ops.Ssthresh!(ref a), y = (uint)bpf.Run("ssthresh", ref b);
                        Assert.That(y, Is.EqualTo(x), $"step {step}: ssthresh");
                        a.SndSsthresh = b.SndSsthresh = x;
                        what = "ssthresh";
                        break;
                    }
                    case 10:
                    {
                        var state = (TcpCaState)rng.Next(0, 5);
                        ops.SetState!(ref a, state);
                        bpf.Run("set_state", ref b, (ulong)state);
                        what = $"set_state {state}";
                        break;
                    }
                    default:
                    {
                        uint x = ops.UndoCwnd!(ref a), y = (uint)bpf.Run("undo_cwnd", ref b);
                        Assert.That(y, Is.EqualTo(x), $"step {step}: undo_cwnd");
                        what = "undo_cwnd";
                        break;
                    }
                }
                AssertSame(a, b, step, what);
            }
            Assert.That(bpf.SentAcks, Is.EqualTo(builtinAcks), "the ACKs of the prior CE state: rcv_nxt and ECE as sent");
            Assert.That(bpf.SentAcks, Is.Not.Empty);
            var stats = bpf.SkStorage;
            TestContext.Out.WriteLine($"{bpf.InstructionsExecuted} BPF instructions; {bpf.SentAcks.Count} prior-state ACKs; " +
                $"sk_storage inits={BitConverter.ToUInt32(stats, 0)} alpha_updates={BitConverter.ToUInt32(stats, 4)} " +
                $"last_alpha={BitConverter.ToUInt32(stats, 8)} ce_changes={BitConverter.ToUInt32(stats, 12)} prior_acks={BitConverter.ToUInt32(stats, 16)}");
            Assert.That(BitConverter.ToUInt32(stats, 0), Is.EqualTo(1u), "inits");
            Assert.That(BitConverter.ToUInt32(stats, 4), Is.GreaterThan(0u), "alpha_updates");
            Assert.That(BitConverter.ToUInt32(stats, 8), Is.EqualTo(a.CaPrivAs<DctcpState>().DctcpAlpha), "last_alpha");
            Assert.That(BitConverter.ToUInt32(stats, 16), Is.EqualTo((uint)bpf.SentAcks.Count), "prior_acks");
        }
        finally
        {
            TcpCongKfuncs.AckOutput = null;
        }
    }

    [Test]
    public void BpfDctcpC_WithoutEcn_SwitchesToRenoThroughSetsockopt_AndLeavesThePrivateAreaAlone()
    {
        var bpf = new BpfObjectRunner("bpf_dctcp");
        var sk = NewSock(new Random(7));
        sk.EcnFlags = 0;
        var before = sk;
        bpf.Run("init", ref sk);
        Assert.That(bpf.SetSockOpts, Is.EqualTo(new[] { (6, 13, "reno", 16) }), "bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, \"reno\", 16)");
        Assert.That(MemoryMarshal.AsBytes(new ReadOnlySpan<TcpSock>(in sk)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<TcpSock>(in before))), Is.True,
            "after the switch the socket belongs to reno: dctcp's init writes nothing");
        Assert.That(BitConverter.ToUInt32(bpf.Sections[".bss"], 0), Is.EqualTo(1u), "fallback_switches");
        Assert.That(BitConverter.ToInt32(bpf.Sections[".bss"], 4), Is.Zero, "fallback_error");
        Assert.That(BitConverter.ToUInt32(bpf.SkStorage, 20), Is.EqualTo(1u), "fell_back in the socket's storage");
        // Reno's cwnd and ssthresh are dctcp-reno's: the fallback the built-in takes.
        Assert.That(Dctcp.RenoFallbackOps.Ssthresh, Is.EqualTo(Reno.Ops.Ssthresh));
        Assert.That(Dctcp.RenoFallbackOps.CongAvoid, Is.EqualTo(Reno.Ops.CongAvoid));
        Assert.That(Dctcp.RenoFallbackOps.UndoCwnd, Is.EqualTo(Reno.Ops.UndoCwnd));
        Assert.That(Reno.Ops.Init, Is.Null);
    }

    [Test]
    public void BpfDctcpC_WhenTheSwitchFails_InitialisesAsDctcp_AndKeepsTheError()
    {
        var bpf = new BpfObjectRunner("bpf_dctcp") { SetSockOptResult = -2 };
        var a = NewSock(new Random(8));
        a.EcnFlags = 0;
        var b = a;
        Dctcp.Ops.Init!(ref a);
        bpf.Run("init", ref b);
        AssertSame(a, b, 0, "init after a failed switch");
        Assert.That(BitConverter.ToInt32(bpf.Sections[".bss"], 4), Is.EqualTo(-2), "fallback_error");
        Assert.That(BitConverter.ToUInt32(bpf.Sections[".bss"], 0), Is.Zero, "fallback_switches");
    }

    [TestCase("bpf_reno", "reno")]
    [TestCase("bpf_reno_link_v1", "reno")]
    [TestCase("bpf_reno_link_v2", "v2")]
    public void RenoObjects_MatchTheirCounterparts(string obj, string counterpart)
    {
        var bpf = new BpfObjectRunner(obj);
        var rng = new Random(11);
        var a = NewSock(rng);
        var b = a;
        for (int step = 1; step <= 2000; step++)
        {
            Perturb(rng, ref a, ref b);
            switch (rng.Next(4))
            {
                case < 2:
                {
                    uint ack = a.SndUna, acked = (uint)rng.Next(1, 8);
                    TcpCongKfuncs.RenoCongAvoid(ref a, ack, acked);
                    bpf.Run("cong_avoid", ref b, ack, acked);
                    break;
                }
                case 2:
                {
                    uint x = counterpart == "v2" ? Math.Max(a.SndCwnd * 7 / 10, 2u) : TcpCongKfuncs.RenoSsthresh(ref a);
                    Assert.That((uint)bpf.Run("ssthresh", ref b), Is.EqualTo(x), $"step {step}: ssthresh");
                    a.SndSsthresh = b.SndSsthresh = x;
                    break;
                }
                default:
                    Assert.That((uint)bpf.Run("undo_cwnd", ref b), Is.EqualTo(TcpCongKfuncs.RenoUndoCwnd(ref a)), $"step {step}: undo_cwnd");
                    break;
            }
            AssertSame(a, b, step, "reno");
        }
    }
}
