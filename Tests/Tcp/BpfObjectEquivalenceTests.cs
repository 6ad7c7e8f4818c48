using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The clang-compiled consumers of Programs/bpf, loaded and run by bpfsim's object runtime (ELF, BTF, CO-RE,
/// interpreter) on a real packet-level flow, against the built-in algorithms they re-implement: the state after
/// every ACK, event and reduction must be the same, bit for bit.
/// </summary>
public sealed class BpfObjectEquivalenceTests
{
    private readonly record struct Step(long TimeNs, uint Cwnd, uint Ssthresh, TcpCaState State, ulong Delivered, uint EcnFlags);

    /// <summary>Registers <paramref name="objectName"/>'s struct_ops variable in a fresh scenario's kernel.</summary>
    private static LoadedStructOps Register(TcpScenario s, string objectName)
    {
        var info = ConsumerObjectLoader.LoadInto(s.System.Catalog, BpfObjects.PathOf(objectName)).Single();
        var r = ConsumerLoading.Load(s.System.Bpf, info, out var loaded);
        Assert.That(r.IsOk, r.Reason);
        r = loaded!.Register();
        Assert.That(r.IsOk, r.Reason);
        return loaded;
    }

    private static List<Step> Trace(string cc, string? objectName, DumbbellOptions network, double seconds, TcpStackOptions? stack = null,
        string? endsWith = null)
    {
        var s = new TcpScenario(network, seed: 7, stack);
        if (objectName is not null)
        {
            Register(s, objectName);
        }
        var conn = s.Flow(cc);
        var trace = new List<Step>();
        s.Stack.Updated += c =>
        {
            ref var sk = ref s.Stack.Sock(c.Id);
            trace.Add(new Step(s.Sim.Now.Nanoseconds, sk.SndCwnd, sk.SndSsthresh, sk.IcskCaState, sk.Delivered, (uint)sk.EcnFlags));
        };
        s.RunFor(seconds);
        Assert.That(conn.Ops.Name, Is.EqualTo(endsWith ?? cc), "the flow kept its algorithm, or fell back as the kernel would");
        Assert.That(conn.Ops.Guard?.Fault, Is.Null);
        return trace;
    }

    private static DumbbellOptions Lossy() => new()
    {
        BottleneckRateBps = 50_000_000, BottleneckDelay = SimTime.FromMilliseconds(10), BottleneckQueue = _ => new DropTailQueue(60),
        BottleneckLoss = new BernoulliLoss(0.002),
    };

    [TestCase("bpf_cubic")]
    [TestCase("bpf_cubic.v3")]
    public void BpfCubicObject_SamePerAckTraceAsBuiltinCubic(string objectName)
    {
        var expected = Trace("cubic", null, Lossy(), 20);
        var actual = Trace("bpf_cubic_c", objectName, Lossy(), 20);

        Assert.That(expected, Has.Count.GreaterThan(10_000), "a long trace with losses and recoveries");
        Assert.That(expected.Select(e => e.State).Distinct(), Has.Member(TcpCaState.Recovery));
        AssertSame(expected, actual);
    }

    /// <summary>
    /// At HZ 250 (Kconfig's default) the object reads CONFIG_HZ = 250 from .kconfig and bpf_jiffies64 counts 4 ms
    /// jiffies, so its HZ/32 gate, epoch arithmetic and usecs_to_jiffies(delay_min) still agree with the built-in call
    /// for call, on a low-RTT path where the jiffy is many RTTs.
    /// </summary>
    [TestCase("bpf_cubic")]
    [TestCase("bpf_cubic.v3")]
    public void BpfCubicObject_AtHz250_SamePerAckTraceAsBuiltinCubic(string objectName)
    {
        var hz250 = new TcpStackOptions { Hz = 250 };
        var lowRtt = new DumbbellOptions
        {
            BottleneckRateBps = 1_000_000_000, BottleneckDelay = SimTime.FromMicroseconds(45), AccessDelay = SimTime.Zero,
            BottleneckQueue = _ => new DropTailQueue(60), BottleneckLoss = new BernoulliLoss(0.0005),
        };
        var expected = Trace("cubic", null, lowRtt, 3, hz250);
        var actual = Trace("bpf_cubic_c", objectName, lowRtt, 3, hz250);
        var at1000 = Trace("cubic", null, lowRtt, 3);

        Assert.That(expected, Has.Count.GreaterThan(10_000));
        Assert.That(expected.Select(e => e.State).Distinct(), Has.Member(TcpCaState.Recovery));
        Assert.That(expected, Is.Not.EqualTo(at1000), "HZ changes the run, so agreeing at 250 is not agreeing at 1000");
        AssertSame(expected, actual);
    }

    [Test]
    public void BpfDctcpObject_SamePerAckTraceAsBuiltinDctcp()
    {
        var ecn = new DumbbellOptions
        {
            BottleneckRateBps = 100_000_000, BottleneckDelay = SimTime.FromMilliseconds(5), BottleneckQueue = _ => new EcnThresholdQueue(20, 200),
        };
        var expected = Trace("dctcp", null, ecn, 10);
        var actual = Trace("bpf_dctcp_c", "bpf_dctcp", ecn, 10);

        Assert.That(expected.Select(e => e.State), Has.Member(TcpCaState.CWR), "marks are echoed and reduce the window");
        AssertSame(expected, actual);
    }

    [Test]
    public void BpfRenoObject_SamePerAckTraceAsBuiltinReno()
    {
        AssertSame(Trace("reno", null, Lossy(), 10), Trace("bpf_reno_c", "bpf_reno", Lossy(), 10));
    }

    [Test]
    public void BpfDctcpObject_WithoutEcn_FallsBackThroughSetsockopt_LikeBuiltinDctcpReno()
    {
        // The receiving hosts run cubic, so they refuse ECN: the built-in dctcp becomes dctcp-reno, and the BPF one
        // switches its socket to reno with bpf_setsockopt(TCP_CONGESTION) from init, which tcp_reinit_congestion_control
        // carries out. The window must evolve the same.
        var noEcn = new TcpStackOptions { ReceiverCc = "cubic" };
        var expected = Trace("dctcp", null, Lossy(), 10, noEcn, endsWith: "dctcp-reno");
        var actual = Trace("bpf_dctcp_c", "bpf_dctcp", Lossy(), 10, noEcn, endsWith: "reno");

        Assert.That(actual.Select(a => (a.TimeNs, a.Cwnd, a.Ssthresh, a.State, a.Delivered)),
            Is.EqualTo(expected.Select(e => (e.TimeNs, e.Cwnd, e.Ssthresh, e.State, e.Delivered))));
    }

    [Test]
    public void SkStorage_LivesWithTheSocket()
    {
        var ecn = new DumbbellOptions { BottleneckQueue = _ => new EcnThresholdQueue(20, 200) };
        var s = new TcpScenario(ecn);
        Register(s, "bpf_dctcp");
        var storage = (BpfSim.Core.Bpf.Maps.SkStorageMap)ConsumerLoading.Objects(s.System.Bpf).Single()
            .Maps.Single(m => m.Name == "dctcp_c_sk_stats").Map;
        var conn = s.Flow("bpf_dctcp_c", bytes: 2_000_000);

        s.RunFor(0.1);
        Assert.That(storage.Count, Is.EqualTo(1), "init created the socket's storage");
        s.RunFor(5);
        Assert.That(conn.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That(storage.Count, Is.Zero, "bpf_sk_storage_free: gone with the socket");
    }

    private static void AssertSame(List<Step> expected, List<Step> actual)
    {
        int n = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            if (expected[i] != actual[i])
            {
                Assert.Fail($"step {i} of {expected.Count} differs: built-in {expected[i]}, object {actual[i]}");
            }
        }
        Assert.That(actual, Has.Count.EqualTo(expected.Count));
    }
}
