using BpfSim.Core.Metrics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;
using BpfSim.Tests.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>
/// A kernel with the ext class attached (the test FIFO class stands in for fair) and a BpfSystem on the same
/// simulator with sched_ext_ops registered, so C# schedulers load and link as struct_ops consumers.
/// </summary>
internal sealed class ExtRig : ITaskWorkDriver, IEventHandler
{
    private readonly HandlerId _handler;

    public ExtRig(int cpus, bool smt = false, int nodes = 1, int hz = 1000)
    {
        Sim = new Simulator();
        Fair = new FifoTestClass(cpus);
        Kernel = new SchedKernel(Sim, new CpuTopology(cpus, smt, nodes), hz, Fair);
        Fair.Core = Kernel;
        Kernel.Driver = this;
        Ext = new ExtSchedClass(Kernel, Kernel.Fair);
        Kernel.AttachExt(Ext);
        Bpf = new BpfSystem(new BpfSystemOptions(), Sim);
        Type = new SchedExtOpsType(Ext);
        Bpf.RegisterStructOpsType(Type);
        Ext.SchedulerExited += (info, map) => Exits.Add(info);
        _handler = Sim.Register(this);
    }

    public Simulator Sim { get; }
    public FifoTestClass Fair { get; }
    public SchedKernel Kernel { get; }
    public ExtSchedClass Ext { get; }
    public BpfSystem Bpf { get; }
    public SchedExtOpsType Type { get; }
    public List<ScxExitInfo> Exits { get; } = [];

    /// <summary>Burst after each wake-up (ns); sleep after it (ns), negative = exit.</summary>
    public long RunNs { get; set; } = 2_000_000;
    public long SleepNs { get; set; } = 3_000_000;

    public int Fork(long workNs = SchedKernel.InfiniteWork, int nice = 0, Cpumask? cpus = null, string comm = "t",
        SchedPolicy policy = SchedPolicy.Normal) =>
        Kernel.Fork(comm, nice, cpus ?? Kernel.Topology.Possible, policy, workNs, new LogLinearHistogram());

    /// <summary>Loads and links <paramref name="consumer"/>; the result of the link create.</summary>
    public BpfResult Load(object consumer, out LoadedStructOps? loaded)
    {
        var r = StructOpsLoader.Load(Bpf, consumer, out loaded);
        return r.IsOk ? loaded!.Register() : r;
    }

    public LoadedStructOps LoadOk(object consumer)
    {
        var r = Load(consumer, out var loaded);
        Assert.That(r.IsOk, Is.True, r.ToString());
        return loaded!;
    }

    public void WorkDone(int task, int cpu)
    {
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
    }

    public void RunFor(SimTime t) => Sim.RunUntil(Sim.Now + t);

    public void RunMs(long ms) => RunFor(SimTime.FromMilliseconds(ms));

    public ref TaskStruct Task(int id) => ref Kernel.Tasks[id];

    public string ClassOf(int id) => Kernel.ClassOf(Kernel.Tasks[id]).Name;
}
