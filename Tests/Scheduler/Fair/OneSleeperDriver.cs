using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>Task <c>s</c> runs 1 ms and sleeps 1 ms, over and over; every other task of the kernel runs for good.</summary>
internal sealed class OneSleeperDriver : ITaskWorkDriver, IEventHandler
{
    private readonly SchedKernel _kernel;
    private readonly Simulator _sim;
    private readonly int _s;
    private readonly HandlerId _self;

    private OneSleeperDriver(SchedKernel kernel, Simulator sim, int s)
    {
        (_kernel, _sim, _s) = (kernel, sim, s);
        _self = sim.Register(this);
    }

    /// <summary>Drives <paramref name="s"/> (forked with 1 ms of work) as the kernel's only finite task.</summary>
    public static void Start(SchedKernel kernel, Simulator sim, int s) => kernel.Driver = new OneSleeperDriver(kernel, sim, s);

    public void WorkDone(int task, int cpu)
    {
        Assert.That(task, Is.EqualTo(_s), "only s has finite work");
        _kernel.Block(_s);
        _sim.Schedule(_sim.Now + SimTime.FromMilliseconds(1), _self, 0, _s);
    }

    public void OnEvent(int kind, long arg)
    {
        _kernel.SetWork(_s, 1_000_000);
        _kernel.WakeUp(_s);
    }
}
