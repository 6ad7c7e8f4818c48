using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// rd->overloaded (kernel/sched/sched.h, fair.c 6.12): add_nr_running sets it when a runqueue reaches two tasks, each
/// balance at the root domain's level sets or clears it by whether some CPU has more than one, and
/// sched_balance_newidle does not balance while it is clear.
/// </summary>
public sealed class NewidleGateTests
{
    [Test]
    public void NewidleBalance_RunsOnlyOnceSomeRunqueueHasTwoTasks()
    {
        var sim = new Simulator();
        FairSchedClass? fair = null;
        var kernel = new SchedKernel(sim, new CpuTopology(2), 1000, core => fair = new FairSchedClass(core));
        var cpu0 = new Cpumask();
        cpu0.Set(0);
        var cpu1 = new Cpumask();
        cpu1.Set(1);
        int a = kernel.Fork("a", 0, cpu0, SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        int s = kernel.Fork("s", 0, cpu1, SchedPolicy.Normal, 1_000_000, new LogLinearHistogram());
        OneSleeperDriver.Start(kernel, sim, s);
        sim.RunUntil(SimTime.FromMilliseconds(50));
        var f = fair!;
        Assert.Multiple(() =>
        {
            Assert.That(kernel.RdOverloaded, Is.False, "no runqueue ever held two tasks");
            Assert.That(f.NewidleBalances, Is.EqualTo(0), "CPU 1 went idle some 25 times without balancing");
            Assert.That(kernel.Current(0), Is.EqualTo(a));
        });

        int b = kernel.Fork("b", 0, cpu0, SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        Assert.That(kernel.RdOverloaded, Is.True, "CPU 0 now holds a and b: add_nr_running set it");
        sim.RunUntil(SimTime.FromMilliseconds(60));
        Assert.Multiple(() =>
        {
            Assert.That(kernel.RdOverloaded, Is.True, "every root-level balance finds CPU 0 with two tasks");
            Assert.That(f.NewidleBalances, Is.GreaterThan(0), "CPU 1's newidle balances run (b is pinned: none pulls)");
            Assert.That(kernel.Tasks[b].Cpu, Is.EqualTo(0));
        });

        kernel.Exit(b);
        sim.RunUntil(SimTime.FromMilliseconds(100));
        long after = f.NewidleBalances;
        sim.RunUntil(SimTime.FromMilliseconds(150));
        Assert.Multiple(() =>
        {
            Assert.That(kernel.RdOverloaded, Is.False, "a root-level balance found no CPU with two tasks");
            Assert.That(f.NewidleBalances, Is.EqualTo(after), "and newidle stopped balancing");
        });
    }
}
