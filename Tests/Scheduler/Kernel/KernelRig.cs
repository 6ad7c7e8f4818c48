using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>A kernel on the test FIFO class, with a driver that sleeps each task for a fixed time after a fixed burst.</summary>
internal sealed class KernelRig : ITaskWorkDriver, IEventHandler
{
    private readonly HandlerId _handler;

    public KernelRig(int cpus, int hz = 1000, int sliceTicks = 4, int timelineLimit = 0)
    {
        Sim = new Simulator();
        Fifo = new FifoTestClass(cpus, sliceTicks);
        Kernel = new SchedKernel(Sim, new CpuTopology(cpus), hz, Fifo, timelineLimit);
        Fifo.Core = Kernel;
        Kernel.Driver = this;
        _handler = Sim.Register(this);
    }

    public Simulator Sim { get; }
    public FifoTestClass Fifo { get; }
    public SchedKernel Kernel { get; }

    /// <summary>Burst length after each wake-up (ns).</summary>
    public long RunNs { get; set; } = 2_000_000;

    /// <summary>Sleep length after each burst (ns); negative: exit instead.</summary>
    public long SleepNs { get; set; } = 3_000_000;

    public List<(long Time, int Task, string What)> Log { get; } = [];

    public bool Logging { get; set; } = true;

    public int Fork(long workNs = SchedKernel.InfiniteWork, int nice = 0, Cpumask? cpus = null, string comm = "t") =>
        Kernel.Fork(comm, nice, cpus ?? Kernel.Topology.Possible, SchedPolicy.Normal, workNs, new LogLinearHistogram());

    public void WorkDone(int task, int cpu)
    {
        if (Logging)
        {
            Log.Add((Sim.Now.Nanoseconds, task, "done"));
        }
        if (SleepNs < 0)
        {
            Kernel.Exit(task);
            return;
        }
        Kernel.Block(task);
        Sim.Schedule(Sim.Now + new SimTime(SleepNs), _handler, 0, task);
    }

    public void OnEvent(int kind, long arg)
    {
        int task = (int)arg;
        Kernel.SetWork(task, RunNs);
        Kernel.WakeUp(task);
        if (Logging)
        {
            Log.Add((Sim.Now.Nanoseconds, task, "woken"));
        }
    }

    public void RunFor(SimTime t) => Sim.RunUntil(Sim.Now + t);
}
