using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Metrics;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Hotplug;

/// <summary>
/// A kernel with the real fair class and sched_ext attached, a BpfSystem with sched_ext_ops on the same simulator,
/// and a driver: hogs never finish; sleepers run <see cref="RunNs"/> then sleep <see cref="SleepNs"/>.
/// </summary>
internal sealed class HotplugRig : ITaskWorkDriver, IEventHandler
{
    private readonly HandlerId _handler;

    public HotplugRig(int cpus, int nodes = 1, bool smt = false)
    {
        Sim = new Simulator();
        Kernel = new SchedKernel(Sim, new CpuTopology(cpus, smt, nodes), 1000, core => new FairSchedClass(core), timelineLimit: 1_000_000);
        Kernel.Driver = this;
        Ext = new ExtSchedClass(Kernel, Kernel.Fair);
        Kernel.AttachExt(Ext);
        Bpf = new BpfSystem(new BpfSystemOptions(), Sim);
        Bpf.RegisterStructOpsType(new SchedExtOpsType(Ext));
        Ext.SchedulerExited += (info, map) => Exits.Add(info);
        _handler = Sim.Register(this);
    }

    public Simulator Sim { get; }
    public SchedKernel Kernel { get; }
    public ExtSchedClass Ext { get; }
    public BpfSystem Bpf { get; }
    public List<ScxExitInfo> Exits { get; } = [];
    public long RunNs { get; set; } = 1_000_000;
    public long SleepNs { get; set; } = 3_000_000;

    public FairSchedClass Fair => (FairSchedClass)Kernel.Fair;

    public int Hog(string comm = "hog", int nice = 0, Cpumask? cpus = null) =>
        Kernel.Fork(comm, nice, cpus ?? Kernel.Topology.Possible, SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());

    public int Sleeper(string comm = "sw", Cpumask? cpus = null) =>
        Kernel.Fork(comm, 0, cpus ?? Kernel.Topology.Possible, SchedPolicy.Normal, RunNs, new LogLinearHistogram());

    /// <summary>Loads and links a C# scheduler; <paramref name="hotplugSeq"/> is written into its hotplug_seq first.</summary>
    public LoadedStructOps Load(object consumer, ulong hotplugSeq = 0)
    {
        var r = StructOpsLoader.Load(Bpf, consumer, out var loaded);
        Assert.That(r.IsOk, r.ToString());
        if (hotplugSeq != 0)
        {
            Assert.That(loaded!.SetPendingMember("hotplug_seq", hotplugSeq), Is.True);
        }
        Assert.That(loaded!.Register().IsOk, Is.True);
        return loaded;
    }

    public void Offline(int cpu) => Assert.That(Kernel.SetCpuOnline(cpu, false), Is.Zero);

    public void Online(int cpu) => Assert.That(Kernel.SetCpuOnline(cpu, true), Is.Zero);

    public void WorkDone(int task, int cpu)
    {
        Kernel.Block(task);
        Sim.Schedule(Sim.Now + new SimTime(SleepNs), _handler, 0, task);
    }

    public void OnEvent(int kind, long arg)
    {
        int task = (int)arg;
        Kernel.SetWork(task, RunNs);
        Kernel.WakeUp(task);
    }

    public void RunMs(double ms) => Sim.RunUntil(Sim.Now + new SimTime((long)(ms * 1e6)));

    public ref TaskStruct Task(int id) => ref Kernel.Tasks[id];

    /// <summary>Tasks queued or running on <paramref name="cpu"/>.</summary>
    public IEnumerable<int> TasksOn(int cpu)
    {
        for (int id = 0; id < Kernel.Tasks.Count; id++)
        {
            ref var p = ref Kernel.Tasks[id];
            if (p.Cpu == cpu && p.OnRq != 0 && p.State != (uint)TaskState.Dead)
            {
                yield return id;
            }
        }
    }
}
