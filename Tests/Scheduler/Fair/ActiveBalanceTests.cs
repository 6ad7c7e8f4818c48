using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// Active balancing through the real core (fair.c need_active_balance / active_load_balance_cpu_stop, stop_machine.c's
/// stopper): a balance that should move tasks but can detach none, more than cache_nice_tries + 2 times in a row, has
/// the busiest CPU's stopper preempt its running task and push a task to the balancing CPU.
/// </summary>
public sealed class ActiveBalanceTests
{
    private const long Ms = 1_000_000;

    private sealed class HogsOnly : ITaskWorkDriver
    {
        public void WorkDone(int task, int cpu) => throw new InvalidOperationException("hogs never finish");
    }

    /// <summary>
    /// 1 hog on node 0 and 3 on node 1 (4 CPUs each), each running alone: node 0's idle CPU finds one task to move
    /// (sibling_imbalance 2, halved; imb_numa_nr 1), but the source CPU runs its only task, so detach_tasks is never
    /// tried and the NUMA domain fails; after its fifth failure (cache_nice_tries 2 + 2) the stopper moves the hog.
    /// Ends 2 and 2, one hog per CPU, and the moved hog keeps running.
    /// </summary>
    [Test]
    public void AcrossNodes_ThreeAgainstOne_TheStopperPushesTheRunningHog()
    {
        var sim = new Simulator();
        FairSchedClass? created = null;
        var kernel = new SchedKernel(sim, new CpuTopology(8, false, 2), 1000, core => created = new FairSchedClass(core))
        {
            Driver = new HogsOnly(),
        };
        var fair = created!;
        int[] ids = [.. new[] { 0, 4, 5, 6 }.Select(cpu =>
            kernel.Fork($"hog{cpu}", 0, Cpumask.Of(cpu), SchedPolicy.Normal, SchedKernel.InfiniteWork, null))];
        sim.RunUntil(new SimTime(5 * Ms));
        foreach (int id in ids)
        {
            Assert.That(kernel.SetCpusAllowed(id, kernel.Topology.Possible), Is.Zero);
        }
        long before = fair.Migrations;
        sim.RunUntil(new SimTime(300 * Ms));
        int[] cpus = [.. ids.Select(id => kernel.Tasks[id].Cpu)];
        Assert.Multiple(() =>
        {
            Assert.That(cpus.Count(c => c < 4), Is.EqualTo(2), $"CPUs {string.Join(",", cpus)}");
            Assert.That(cpus.Distinct().Count(), Is.EqualTo(4));
            Assert.That(fair.Migrations - before, Is.EqualTo(1), "one push, then balanced");
            Assert.That(ids.All(id => kernel.Current(kernel.Tasks[id].Cpu) == id), Is.True, "every hog runs");
        });
    }
}
