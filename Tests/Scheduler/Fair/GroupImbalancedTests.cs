using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// group_imbalanced (kernel/sched/fair.c 6.12: LBF_SOME_PINNED in sched_balance_rq, sg_imbalanced in group_classify,
/// force_balance and calculate_imbalance's group_imbalanced case): a balance inside a node that affinity kept from
/// reaching balance flags the node's group one level up, and the machine level then moves one of its tasks to another
/// node, where the node-level averages alone would have called the machine balanced.
/// </summary>
public sealed class GroupImbalancedTests
{
    /// <summary>
    /// Two nodes: CPUs 0 and 1, CPUs 2 and 3. Two hogs share CPU 0 and may run on CPUs 0, 2 and 3 (not 1); a third is
    /// pinned to CPU 2. CPU 1's balances find CPU 0 with two tasks, neither allowed on CPU 1. By the nodes' figures
    /// (two tasks and one idle CPU each side, one task apart) the machine is balanced; only the flag moves a hog to
    /// CPU 3.
    /// </summary>
    [Test]
    public void AffinityThatBlocksTheNodesOwnBalance_MovesATaskToAnotherNode()
    {
        var sim = new Simulator();
        FairSchedClass? fair = null;
        var kernel = new SchedKernel(sim, new CpuTopology(4, nodes: 2), 1000, core => fair = new FairSchedClass(core));
        int t1 = kernel.Fork("t1", 0, Cpumask.Of(0), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        int t2 = kernel.Fork("t2", 0, Cpumask.Of(0), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        kernel.Fork("h", 0, Cpumask.Of(2), SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        kernel.SetCpusAllowed(t1, Cpumask.Of(0, 2, 3));
        kernel.SetCpusAllowed(t2, Cpumask.Of(0, 2, 3));
        Assert.That((kernel.Tasks[t1].Cpu, kernel.Tasks[t2].Cpu), Is.EqualTo((0, 0)), "premise: both start on CPU 0");

        SimTime? seenOnNode1 = null;
        for (int ms = 10; ms <= 1000 && seenOnNode1 is null; ms += 10)
        {
            sim.RunUntil(SimTime.FromMilliseconds(ms));
            if (kernel.Tasks[t1].Cpu >= 2 || kernel.Tasks[t2].Cpu >= 2)
            {
                seenOnNode1 = sim.Now;
            }
        }

        Assert.That(seenOnNode1, Is.Not.Null, "a hog of CPU 0 went to node 1 within 1 s");

        // Then CPU 1's next balance finds CPU 0 with one task, reaches balance with a task free to move and clears the
        // flag: the hogs stay where they are, one on each node.
        // (Left set, the flag has the machine level move them back and forth: 25 moves by 4 s.)
        sim.RunUntil(SimTime.FromSeconds(2));
        long moved = fair!.Migrations;
        var cpus = new[] { kernel.Tasks[t1].Cpu, kernel.Tasks[t2].Cpu }.Order().ToArray();
        sim.RunUntil(SimTime.FromSeconds(4));
        Assert.Multiple(() =>
        {
            Assert.That(moved, Is.EqualTo(1), "the one forced move");
            Assert.That(cpus[0], Is.EqualTo(0));
            Assert.That(cpus[1], Is.InRange(2, 3));
            Assert.That(fair.Migrations, Is.EqualTo(moved), "nothing moves after it");
        });
    }
}
