using BpfSim.Core.Workloads;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// A faulty consumer ends that consumer, never the run: it is ejected (map unregistered, sockets moved to the default
/// algorithm as tcp_reinit_congestion_control would) and the run reaches its end with the fault recorded.
/// </summary>
public sealed class ConsumerFaultTests
{
    /// <summary>Reno through the kfuncs, so each test consumer has the mandatory members and misbehaves in one.</summary>
    public abstract class RenoConsumer : TcpCongestionOpsProgram
    {
        public override uint Ssthresh(ref TcpSock sk) => TcpCongKfuncs.RenoSsthresh(ref sk);

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

        public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_throw5s")]
    public sealed class ThrowsInCongAvoidAt5s : RenoConsumer
    {
        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
        {
            if (sk.TcpMstamp >= 5_000_000)
            {
                throw new InvalidOperationException("deliberate fault in cong_avoid");
            }
            TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
        }
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_throw_init")]
    public sealed class ThrowsInInit : RenoConsumer
    {
        public override void Init(ref TcpSock sk) => throw new ArgumentException("deliberate fault in init");
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_cctor")]
    public sealed class ThrowsInStaticConstructor : RenoConsumer
    {
        // An explicit static constructor runs when the first instance is made, i.e. when the consumer is loaded.
        static ThrowsInStaticConstructor() => throw new InvalidOperationException("deliberate fault in a static constructor");
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_cwnd0")]
    public sealed class ZeroCwnd : RenoConsumer
    {
        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => sk.SndCwnd = 0;
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_cwnd_huge")]
    public sealed class HugeCwnd : RenoConsumer
    {
        public override void Init(ref TcpSock sk) => sk.SndCwnd = 1u << 31;

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => sk.SndCwnd = 1u << 31;
    }

    /// <summary>Blocks in cong_avoid from 1 s of simulated time until <see cref="Unblock"/> is set, then throws.</summary>
    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_block")]
    public sealed class BlocksInCongAvoid : RenoConsumer
    {
        public static readonly ManualResetEventSlim Unblock = new();

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
        {
            if (sk.TcpMstamp >= 1_000_000)
            {
                Unblock.Wait(TimeSpan.FromSeconds(30));
                throw new TimeoutException("released");
            }
            TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
        }
    }

    [StructOps(TcpCongestionOpsType.TypeName, Id = "t_link_v1", Name = "t_link", Link = true)]
    public sealed class LinkV1ThrowsAt2s : RenoConsumer
    {
        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
        {
            if (sk.TcpMstamp >= 2_000_000)
            {
                throw new InvalidOperationException("v1 fails");
            }
            TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
        }
    }

    [StructOps(TcpCongestionOpsType.TypeName, Id = "t_link_v2", Name = "t_link", Link = true)]
    public sealed class LinkV2 : RenoConsumer
    {
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_release")]
    public sealed class ThrowsInRelease : RenoConsumer
    {
        public override void Release(ref TcpSock sk) => throw new InvalidOperationException("deliberate fault in release");
    }

    [StructOps(TcpCongestionOpsType.TypeName, Name = "t_sndbuf0")]
    public sealed class ZeroSndbufFactor : RenoConsumer
    {
        public override uint SndbufExpand(ref TcpSock sk) => 0;
    }

    private static TcpScenarioSpec Scenario(string consumer, double seconds = 10) => new()
    {
        Seed = 3,
        Duration = new SimTime((long)(seconds * 1e9)),
        Network = new NetworkSpec { BottleneckRateBps = 20_000_000 },
        StructOps = [new StructOpsEntry { Program = consumer, At = SimTime.Zero }],
        Flows =
        [
            new FlowSpec { Count = 2, Cc = consumer, Start = SimTime.FromMilliseconds(10) },
            new FlowSpec { Count = 1, Cc = "reno", Start = SimTime.FromMilliseconds(10) },
        ],
    };

    private static TcpRunResult Run(TcpScenarioSpec spec, TimeSpan? budget = null)
    {
        var system = new TcpTestSystem();
        foreach (var type in new[] { typeof(ThrowsInCongAvoidAt5s), typeof(ThrowsInInit), typeof(ThrowsInStaticConstructor), typeof(ZeroCwnd),
                     typeof(HugeCwnd), typeof(BlocksInCongAvoid), typeof(LinkV1ThrowsAt2s), typeof(LinkV2), typeof(ThrowsInRelease),
                     typeof(ZeroSndbufFactor) })
        {
            system.Catalog.Add(type, "test");
        }
        return TcpScenarioRunner.RunContained(spec, () => new TcpTestSystem().Bpf, system.Catalog, callBudget: budget);
    }

    [Test]
    public void CongAvoidThrowsAt5s_ConsumerEjected_FlowsContinueOnDefault()
    {
        var result = Run(Scenario("t_throw5s"));

        Assert.That(result.Faults, Has.Count.EqualTo(1));
        var fault = result.Faults[0];
        Assert.Multiple(() =>
        {
            Assert.That(fault.Consumer, Is.EqualTo("t_throw5s"));
            Assert.That(fault.Member, Is.EqualTo("cong_avoid"));
            Assert.That(fault.Kind, Is.EqualTo(ConsumerFaultKind.Exception));
            Assert.That(fault.Message, Does.Contain("InvalidOperationException: deliberate fault in cong_avoid"));
            Assert.That(fault.Seconds, Is.InRange(5.0, 5.2), "the first ACK after 5 s");
        });
        var moved = result.Flows.Where(f => f.CcRequested == "t_throw5s").ToList();
        Assert.That(moved, Has.Count.EqualTo(2));
        Assert.That(moved.Select(f => f.Cc), Is.All.EqualTo("cubic"), "tcp_reinit_congestion_control to the default");
        var map = result.StructOps.Single(m => m.Name == "t_throw5s");
        Assert.That(map.Transitions.Select(t => t.State), Is.EqualTo(new[] { "INIT", "INUSE", "TOBEFREE" }));
        // Recorded when the delete returns, after tcp_unregister_congestion_control's synchronize_rcu.
        Assert.That(map.Transitions[2].Seconds, Is.InRange(fault.Seconds, fault.Seconds + 0.02), "unregistered at the fault");
        Assert.That(map.RefCountFinal, Is.Zero);
        Assert.That(map.Freed, Is.True, "sockets let go of it at the ejection, the loader at the end");
        Assert.That(result.Notes, Has.Some.Contains("t_throw5s ejected").And.Contains("2 flow(s) moved to cubic"));

        // The flows kept delivering after the ejection: compare with the same run cut at the fault.
        var before = Run(Scenario("t_throw5s", seconds: 5));
        Assert.That(before.Faults, Is.Empty);
        for (int i = 0; i < 2; i++)
        {
            Assert.That(moved[i].BytesAcked, Is.GreaterThan(before.Flows[i].BytesAcked * 1.6), $"flow {i + 1} went on after 5 s");
        }
    }

    [Test]
    public void FaultedRun_IsDeterministic()
    {
        var a = Run(Scenario("t_throw5s"));
        var b = Run(Scenario("t_throw5s"));
        Assert.That(b.Faults, Is.EqualTo(a.Faults));
        Assert.That(b.Flows, Is.EqualTo(a.Flows));
    }

    [Test]
    public void InitThrows_FlowsRunOnDefault_NoCallAfterTheFault()
    {
        var result = Run(Scenario("t_throw_init"));

        Assert.That(result.Faults.Single().Member, Is.EqualTo("init"));
        Assert.That(result.Faults.Single().Message, Does.Contain("ArgumentException"));
        Assert.That(result.Flows.Where(f => f.CcRequested == "t_throw_init").Select(f => f.Cc), Is.All.EqualTo("cubic"));
        Assert.That(result.Flows.Where(f => f.CcRequested == "t_throw_init").Select(f => f.GoodputMbps), Is.All.GreaterThan(3));
    }

    [Test]
    public void StaticConstructorThrows_LoadFault_FlowsFallBack()
    {
        var result = Run(Scenario("t_cctor"));

        var fault = result.Faults.Single();
        Assert.That(fault.Kind, Is.EqualTo(ConsumerFaultKind.Load));
        Assert.That(fault.Message, Does.Contain("deliberate fault in a static constructor"));
        Assert.That(result.StructOps, Is.Empty, "nothing was registered");
        Assert.That(result.Flows.Where(f => f.CcRequested == "t_cctor").Select(f => f.Cc), Is.All.EqualTo("cubic"));
    }

    [Test]
    public void CallThatDoesNotReturn_IsAbandoned_RunReplayedToTheEnd()
    {
        BlocksInCongAvoid.Unblock.Reset();
        try
        {
            var result = Run(Scenario("t_block", seconds: 3), budget: TimeSpan.FromMilliseconds(200));

            var fault = result.Faults.Single();
            Assert.That(fault.Kind, Is.EqualTo(ConsumerFaultKind.Timeout));
            Assert.That(fault.Member, Is.EqualTo("cong_avoid"));
            Assert.That(fault.Seconds, Is.InRange(1.0, 1.2));
            Assert.That(fault.Message, Does.Contain("did not return within 0.2 s"));
            Assert.That(result.SimSeconds, Is.EqualTo(3));
            Assert.That(result.Flows.Where(f => f.CcRequested == "t_block").Select(f => f.Cc), Is.All.EqualTo("cubic"));
        }
        finally
        {
            BlocksInCongAvoid.Unblock.Set(); // the abandoned attempt's call throws and its short run ends
        }
    }

    [Test]
    public void ReentryThroughKfuncs_StopsAtMaxDepth_WithoutStackOverflow()
    {
        var system = new TcpTestSystem();
        var guard = new ConsumerGuard(0, "t_reenter", null, system.Bpf.Simulator, GuardedCongestionOps.Members);
        TcpCongestionOps? wrapped = null;
        int calls = 0;
        var inner = new TcpCongestionOps
        {
            Name = "t_reenter",
            // Each call re-enters the consumer, as a kfunc calling back into the same struct_ops would.
            CongAvoid = (ref TcpSock sk, uint ack, uint acked) =>
            {
                calls++;
                wrapped!.CongAvoid!(ref sk, ack, acked);
            },
        };
        wrapped = GuardedCongestionOps.Wrap(inner, guard, (_, _, _) => { });
        var sk = TcpTestSystem.Socket();

        wrapped.CongAvoid!(ref sk, 1, 1);

        Assert.That(calls, Is.EqualTo(ConsumerGuard.MaxDepth));
        Assert.That(guard.Fault!.Kind, Is.EqualTo(ConsumerFaultKind.Recursion));
        Assert.That(guard.Depth, Is.Zero, "every frame let go");
        wrapped.CongAvoid!(ref sk, 1, 1);
        Assert.That(calls, Is.EqualTo(ConsumerGuard.MaxDepth), "a faulted consumer is not called again");
    }

    [Test]
    public void SsthreshThrows_ReturnsRenoSsthresh()
    {
        var system = new TcpTestSystem();
        var guard = new ConsumerGuard(0, "t_ss", null, system.Bpf.Simulator, GuardedCongestionOps.Members);
        var wrapped = GuardedCongestionOps.Wrap(new TcpCongestionOps
        {
            Name = "t_ss",
            Ssthresh = (ref TcpSock _) => throw new InvalidOperationException("no"),
        }, guard, (_, _, _) => { });
        var sk = TcpTestSystem.Socket(cwnd: 40);

        Assert.That(wrapped.Ssthresh!(ref sk), Is.EqualTo(20), "tcp_reno_ssthresh: max(cwnd / 2, 2)");
        Assert.That(guard.Fault!.Member, Is.EqualTo("ssthresh"));
    }

    [Test]
    public void ZeroCwnd_ReportedOnceAsTheKernelsWarn_RunCompletes()
    {
        var result = Run(Scenario("t_cwnd0", seconds: 3));

        Assert.That(result.Faults, Is.Empty, "a zero window is the algorithm's business, not a fault");
        var warnings = result.Notes.Where(n => n.Contains("WARN_ON_ONCE")).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1), "once per consumer, as WARN_ON_ONCE");
        Assert.That(warnings[0], Does.Contain("t_cwnd0.cong_avoid set snd_cwnd to 0"));
        Assert.That(result.Flows.Single(f => f.Cc == "reno").GoodputMbps, Is.GreaterThan(5), "the other flow has the link");
    }

    [Test]
    public void HugeCwnd_InFlightBoundedBySendBuffer()
    {
        var s = new TcpScenario(new BpfSim.Tcp.Net.DumbbellOptions { BottleneckRateBps = 1_000_000_000, BottleneckDelay = SimTime.FromMilliseconds(20) });
        s.System.Register(new HugeCwnd());
        var conn = s.Flow("t_cwnd_huge");
        uint maxOut = 0;
        for (int i = 0; i < 2000; i++)
        {
            s.RunFor(0.001);
            maxOut = Math.Max(maxOut, s.Stack.Sock(conn.Id).PacketsOut);
        }
        // tcp_wmem[2] = 4 MiB of queued data at 1448 bytes a segment.
        Assert.That(maxOut, Is.InRange(2800u, (4u << 20) / 1448 + 1));
        Assert.That(s.Stack.Sock(conn.Id).SkSndbuf, Is.EqualTo(4u << 20));
    }

    [Test]
    public void LinkConsumerEjected_LaterReplaceOfItsLink_IsANote_RunCompletes()
    {
        var spec = Scenario("t_link", seconds: 6) with
        {
            StructOps =
            [
                new StructOpsEntry { Program = "t_link_v1", At = SimTime.Zero },
                new StructOpsEntry { Program = "t_link_v2", At = SimTime.FromSeconds(4), Replace = "t_link_v1" },
            ],
        };

        var result = Run(spec);

        Assert.That(result.Faults.Single().Consumer, Is.EqualTo("t_link"));
        Assert.That(result.Notes, Has.Some.Contains("t_link_v1 was ejected for a fault and its link detached, so t_link_v2 has no link to update"));
        Assert.That(result.SimSeconds, Is.EqualTo(6));
    }

    [Test]
    public void ReleaseThrowsAtTheEnd_EjectedBeforeTheLoaderCloses_MapFreed()
    {
        var result = Run(Scenario("t_release", seconds: 2));

        var fault = result.Faults.Single();
        Assert.That((fault.Member, fault.Seconds), Is.EqualTo(("release", 2.0)));
        Assert.That(result.Notes, Has.None.Contains("unregister failed"));
        var map = result.StructOps.Single();
        Assert.That(map.Transitions.Select(t => t.State), Is.EqualTo(new[] { "INIT", "INUSE", "TOBEFREE" }));
        Assert.That(map.Freed, Is.True);
    }

    [Test]
    public void SndbufExpandReturnsZero_FlowStillSends_WithinTcpWmemDefault()
    {
        var s = new TcpScenario();
        s.System.Register(new ZeroSndbufFactor());
        var conn = s.Flow("t_sndbuf0");
        uint maxOut = 0;
        for (int i = 0; i < 1000; i++)
        {
            s.RunFor(0.002);
            maxOut = Math.Max(maxOut, s.Stack.Sock(conn.Id).PacketsOut);
        }
        Assert.That(s.Stack.Sock(conn.Id).SkSndbuf, Is.EqualTo(16384u), "tcp_init_sock's tcp_wmem[1], never grown by a factor of 0");
        Assert.That(maxOut, Is.EqualTo((16384 + 1447) / 1448), "the write queue holds what fits, the last segment crossing sk_sndbuf");
        Assert.That(conn.Stats.BytesAcked, Is.GreaterThan(1_000_000));
    }
}
