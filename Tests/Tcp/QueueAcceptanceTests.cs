using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Issue #14's acceptance for Linux's queues: fq_codel holds a loaded dumbbell's queueing delay near CoDel's target
/// at full utilization, and fq's per-flow queues share a link fairly between BBR and CUBIC where a FIFO does not
/// (docs/queues.md records the numbers).
/// </summary>
[Category("Tcp")]
public sealed class QueueAcceptanceTests
{
    private static readonly Study s_study = new();

    private static TcpScenarioSpec Dumbbell(QueueSpec queue, SimTime duration, params FlowSpec[] flows) => new()
    {
        Seed = 2,
        Duration = duration,
        Ecn = 1,
        Network = new NetworkSpec { BottleneckRateBps = 100_000_000, BottleneckDelay = SimTime.FromMilliseconds(10), Queue = queue },
        Flows = flows,
    };

    private static TcpRunResult Run(TcpScenarioSpec spec) => s_study.Run(s_study.FromSpec(spec)).Tcp!;

    [Test]
    public void FqCodel_TenFlowDumbbell_MedianQueueDelayNearTarget_AtFullUtilization()
    {
        var tenCubic = new FlowSpec { Count = 10, Cc = "cubic", Stagger = SimTime.FromMilliseconds(100) };
        var fqCodel = Run(Dumbbell(new QueueSpec { Kind = QueueKind.FqCodel, Limit = 10240, Ecn = true }, SimTime.FromSeconds(20), tenCubic));
        var fifo = Run(Dumbbell(new QueueSpec { Kind = QueueKind.DropTail, Limit = 1000 }, SimTime.FromSeconds(20), tenCubic));

        var link = fqCodel.Links[0];
        Assert.That(link.Utilization, Is.GreaterThan(0.98));
        // CoDel keeps each flow's minimum sojourn per interval at or below 5 ms: the median sits just under it.
        Assert.That(link.QueueDelayMs.P50, Is.InRange(2.5, 5.5));
        Assert.That(link.QueueDelayMs.Mean, Is.LessThan(7.5));
        Assert.That(fqCodel.Fairness.Jain, Is.GreaterThan(0.99), "fair queueing (seed 2: no two flows share a bucket)");
        // The same flows in a 1000-packet FIFO: a standing queue of tens of milliseconds.
        Assert.That(fifo.Links[0].QueueDelayMs.P50, Is.GreaterThan(8 * link.QueueDelayMs.P50));
    }

    [Test]
    public void Fq_BbrAgainstCubic_SharesEqually_WhereShallowAndDeepFifosFavourOneSide()
    {
        FlowSpec[] flows = [
            new() { Count = 2, Cc = "cubic", Stagger = SimTime.FromMilliseconds(100) },
            new() { Count = 2, Cc = "bbr", Stagger = SimTime.FromMilliseconds(100) },
        ];
        double BbrShare(QueueSpec queue)
        {
            var r = Run(Dumbbell(queue, SimTime.FromSeconds(20), flows) with { Ecn = 2 });
            double bbr = r.Flows.Where(f => f.Cc == "bbr").Sum(f => f.GoodputMbps);
            return bbr / r.Flows.Sum(f => f.GoodputMbps);
        }
        // Per-flow queues isolate the two (Hock et al., "Experimental evaluation of BBR congestion control",
        // ICNP 2017; Ware et al., "Modeling BBR's interactions with loss-based congestion control", IMC 2019: in a
        // shared FIFO BBR takes most of a shallow buffer and CUBIC most of a deep one).
        Assert.That(BbrShare(new QueueSpec { Kind = QueueKind.Fq, Limit = 10000 }), Is.InRange(0.45, 0.55));
        Assert.That(BbrShare(new QueueSpec { Kind = QueueKind.DropTail, Limit = 100 }), Is.GreaterThan(0.8));
        Assert.That(BbrShare(new QueueSpec { Kind = QueueKind.DropTail, Limit = 1000 }), Is.LessThan(0.4));
    }

    private sealed class PacingStatusProbe : ITcpRunObserver
    {
        private TcpRunContext? _run;
        public readonly List<(string Cc, uint Status)> Seen = [];

        public void Attach(TcpRunContext run) => _run = run;

        public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
        {
        }

        public void Finish(SimTime end)
        {
            foreach (var conn in _run!.Stack.Connections)
            {
                Seen.Add((conn.Ops.Name, _run.Stack.Sock(conn.Id).SkPacingStatus));
            }
        }
    }

    [TestCase(QueueKind.Fq, 2u, 2u)]
    [TestCase(QueueKind.DropTail, 0u, 1u)]
    public void Fq_SetsSkPacingFq_OnEverySocketItSees_OtherQueuesLeaveTheAlgorithmsChoice(QueueKind kind, uint cubic, uint bbr)
    {
        var spec = Dumbbell(new QueueSpec { Kind = kind, Limit = QueueSpec.DefaultLimit(kind) }, SimTime.FromSeconds(1),
            new FlowSpec { Cc = "cubic" }, new FlowSpec { Cc = "bbr" });
        var probe = new PacingStatusProbe();
        var (factory, catalog) = Composition.Create([]);
        new TcpScenarioRunner(spec, factory.Create(), catalog, [probe]).Run();
        // SK_PACING_NONE 0, NEEDED 1 (BBR's init asks for internal pacing), FQ 2 (fq_classify, before BBR's init).
        Assert.That(probe.Seen, Is.EqualTo(new[] { ("cubic", cubic), ("bbr", bbr) }));
    }
}
