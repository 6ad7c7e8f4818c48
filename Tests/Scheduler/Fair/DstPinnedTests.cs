using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// LBF_DST_PINNED (kernel/sched/fair.c 6.12, can_migrate_task and sched_balance_rq): a periodic balance that finds the
/// busiest group's tasks pinned away from the balancing CPU sends them to another CPU of its group that they may run
/// on, instead of giving up.
/// </summary>
public sealed class DstPinnedTests
{
    /// <summary>
    /// Two nodes: CPUs 0 and 1, CPUs 2 and 3. CPU 1 runs a hog pinned there; six hogs share CPUs 2 and 3 and may also run
    /// on CPU 1, not on CPU 0. CPU 0 is idle, so it is the one CPU of node 0 that balances across nodes
    /// (should_we_balance), and it may take none of them: only LBF_DST_PINNED moves them, to CPU 1.
    /// </summary>
    [Test]
    public void TasksPinnedAwayFromTheIdleBalancer_GoToTheCpuOfItsNodeTheyMayRunOn()
    {
        var sim = new Simulator();
        var kernel = new SchedKernel(sim, new CpuTopology(4, nodes: 2), 1000, core => new FairSchedClass(core));
        kernel.Fork("b", 0, Cpumask.Of(1), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        var hogs = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            int h = kernel.Fork($"h{i}", 0, Cpumask.Of(2, 3), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
            hogs.Add(h);
        }
        Assert.That(hogs.Select(h => kernel.Tasks[h].Cpu), Is.All.InRange(2, 3), "premise: all six start on node 1");
        foreach (int h in hogs)
        {
            kernel.SetCpusAllowed(h, Cpumask.Of(1, 2, 3));
        }

        sim.RunUntil(SimTime.FromMilliseconds(200));

        Assert.Multiple(() =>
        {
            Assert.That(hogs.Count(h => kernel.Tasks[h].Cpu == 1), Is.GreaterThan(0), "some moved to CPU 1, by CPU 0's balances");
            Assert.That(kernel.Current(0), Is.LessThan(0), "CPU 0 itself took none: none may run there");
        });
    }
}
