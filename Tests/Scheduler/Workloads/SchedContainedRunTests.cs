using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tests.Scheduler.Perf;
using static BpfSim.Tests.Scheduler.Workloads.SchedRunRig;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>
/// A C# scheduler whose call never returns ends that scheduler, not the run: the contained run abandons the hung
/// attempt and replays it with that call refused, which sched_ext makes an error exit naming the op (scx_ops_error,
/// kernel/sched/ext.c): ejected with kind ERROR, tasks back to fair, the run reaches its end.
/// </summary>
[NonParallelizable] // the hung attempts spin until released; one test at a time keeps them off the other tests' cores
public sealed class SchedContainedRunTests
{
    /// <summary>Released at the end of each test, so the abandoned attempts' spinning calls return and their threads end.</summary>
    private static volatile bool s_release;

    /// <summary>A global-FIFO scheduler whose ops.enqueue (or ops.dispatch) spins forever from its Nth call on.</summary>
    private abstract class SpinningScheduler : SchedExtOpsProgram
    {
        private const ulong Dsq = 0;
        private int _enqueues;
        private int _dispatches;

        protected virtual int EnqueueHangsAt => int.MaxValue;

        protected virtual int DispatchHangsAt => int.MaxValue;

        public override int Init()
        {
            Scx.CreateDsq(Dsq, -1);
            return 0;
        }

        public override void Enqueue(ref TaskStruct p, ulong enqFlags)
        {
            if (++_enqueues >= EnqueueHangsAt)
            {
                Spin();
            }
            Scx.Dispatch(ref p, Dsq, Scx.SliceDfl, enqFlags);
        }

        public override void Dispatch(int cpu, ref TaskStruct prev)
        {
            if (++_dispatches >= DispatchHangsAt)
            {
                Spin();
            }
            Scx.Consume(Dsq);
        }

        private static void Spin()
        {
            while (!s_release)
            {
                // an infinite loop, as far as the simulation can tell
            }
            throw new OperationCanceledException("released after the test");
        }
    }

    [StructOps(SchedExtOpsType.TypeName, Name = "t_spin_enqueue", Link = true)]
    private sealed class SpinsInEnqueue : SpinningScheduler
    {
        protected override int EnqueueHangsAt => 40;
    }

    [StructOps(SchedExtOpsType.TypeName, Name = "t_spin_dispatch", Link = true)]
    private sealed class SpinsInDispatch : SpinningScheduler
    {
        protected override int DispatchHangsAt => 25;
    }

    [SetUp]
    public void SetUp() => s_release = false;

    [TearDown]
    public void TearDown() => s_release = true;

    private static SchedScenarioSpec Scenario(string scheduler) => Spec(2, SimTime.FromSeconds(1),
        new TaskGroupSpec { Name = "hog", Count = 3 },
        new TaskGroupSpec
        {
            Name = "web", Count = 2,
            Behavior = new TaskBehavior
            {
                Kind = BehaviorKind.SleepWake,
                Run = new Distribution(DistributionKind.Exp, 1e6), Sleep = new Distribution(DistributionKind.Exp, 4e6),
            },
        }) with
    {
        StructOps = [new StructOpsEntry { Program = scheduler, At = SimTime.FromMilliseconds(200) }],
        TimelineLimit = 1_000_000,
    };

    private static (SchedRunResult Result, List<string> Abandoned) Run(string scheduler)
    {
        var catalog = new ConsumerCatalog();
        catalog.Add(typeof(SpinsInEnqueue), "test");
        catalog.Add(typeof(SpinsInDispatch), "test");
        var abandoned = new List<string>();
        var result = SchedScenarioRunner.RunContained(Scenario(scheduler), () => new BpfSystem(), catalog,
            callBudget: TimeSpan.FromMilliseconds(200), abandoned: (guard, call) => abandoned.Add($"{guard.Consumer}.{guard.Member} #{call}"));
        return (result, abandoned);
    }

    [TestCase("t_spin_enqueue", "enqueue")]
    [TestCase("t_spin_dispatch", "dispatch")]
    public void CallThatNeverReturns_IsAbandoned_ReplayEjectsWithError_RunCompletes(string scheduler, string op)
    {
        var (r, abandoned) = Run(scheduler);

        Assert.Multiple(() =>
        {
            Assert.That(abandoned, Has.Count.EqualTo(1));
            Assert.That(abandoned[0], Does.StartWith($"{scheduler}.{op} #"));
            var e = r.Ejections.Single();
            Assert.That(e.Scheduler, Is.EqualTo(scheduler));
            Assert.That(e.Kind, Is.EqualTo("SCX_EXIT_ERROR"));
            Assert.That(e.Message, Is.EqualTo($"ops.{op}() failed: did not return within 0.2 s of wall-clock time (the call was abandoned)"));
            Assert.That(e.Seconds, Is.GreaterThan(0.2).And.LessThan(0.5), "after the scheduler was enabled at 0.2 s");
            var fault = r.Faults.Single();
            Assert.That(fault.Kind, Is.EqualTo(ConsumerFaultKind.Timeout));
            Assert.That(fault.Member, Is.EqualTo(op));
            Assert.That(r.SimSeconds, Is.EqualTo(1.0));
            Assert.That(r.Tasks.Select(t => t.Class), Is.All.EqualTo("fair"), "tasks back in fair after the ejection");
            var late = r.Trace.Timeline.Where(x => x.Task >= 0 && x.StartNs > 500_000_000L).ToList();
            Assert.That(late, Is.Not.Empty, "the run went on after the ejection");
            Assert.That(late.Select(x => x.Class), Is.All.Not.EqualTo(1), "nothing ran in ext after the ejection");
        });
    }

    [Test]
    public void HungScheduler_TwoContainedRuns_GiveIdenticalResults()
    {
        var (first, _) = Run("t_spin_enqueue");
        var (second, _) = Run("t_spin_enqueue");

        Assert.That(SchedGoldenDigestTests.Digest(second), Is.EqualTo(SchedGoldenDigestTests.Digest(first)));
        Assert.That(second.Ejections.Single(), Is.EqualTo(first.Ejections.Single()));
    }
}
