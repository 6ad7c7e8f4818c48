using BpfSim.Core.Metrics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;
using BpfSim.Tests.Scheduler.Kernel;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// A kernel with the ext class (the test FIFO class for fair), a BpfSystem on the same simulator with as many CPUs,
/// bpfsim's kernel BTF (so objects load) and sched_ext_ops registered; a workload of hogs and sleep/wake tasks; and
/// loading either a C# scheduler or a BPF object's struct_ops variable, so the two can be run on the same workload.
/// </summary>
internal sealed class ScxObjectRig : ITaskWorkDriver, IEventHandler
{
    private static readonly Lazy<BtfSpec> s_btf = new(SchedKernelBtfTests.Kernel);
    private readonly HandlerId _handler;

    public ScxObjectRig(int cpus)
    {
        Sim = new Simulator();
        Fair = new FifoTestClass(cpus);
        Kernel = new SchedKernel(Sim, new CpuTopology(cpus), 1000, Fair, timelineLimit: 1 << 20);
        Fair.Core = Kernel;
        Kernel.Driver = this;
        Ext = new ExtSchedClass(Kernel, Kernel.Fair);
        Kernel.AttachExt(Ext);
        Bpf = new BpfSystem(new BpfSystemOptions { Cpus = cpus }, Sim) { KernelBtfSource = () => s_btf.Value };
        Bpf.RegisterStructOpsType(new SchedExtOpsType(Ext));
        Ext.SchedulerExited += (info, _) => Exits.Add(info);
        _handler = Sim.Register(this);
    }

    public Simulator Sim { get; }
    public FifoTestClass Fair { get; }
    public SchedKernel Kernel { get; }
    public ExtSchedClass Ext { get; }
    public BpfSystem Bpf { get; }
    public ConsumerCatalog Catalog { get; } = new();
    public List<ScxExitInfo> Exits { get; } = [];
    public LoadedStructOps? Loaded { get; private set; }

    /// <summary>Burst and sleep of the sleep/wake tasks (ns), plus a per-task offset so they do not move in lockstep.</summary>
    public long RunNs { get; set; } = 1_500_000;
    public long SleepNs { get; set; } = 4_000_000;

    /// <summary>The workload the equivalence tests use: hogs of two weights and sleep/wake tasks.</summary>
    public void StandardWorkload(int hogs0 = 3, int hogs5 = 2, int sleepers = 3)
    {
        for (int i = 0; i < hogs0; i++)
        {
            Fork(nice: 0, comm: $"hog0_{i}");
        }
        for (int i = 0; i < hogs5; i++)
        {
            Fork(nice: 5, comm: $"hog5_{i}");
        }
        for (int i = 0; i < sleepers; i++)
        {
            Fork(RunNs * (i + 1), nice: i - 1, comm: $"sw_{i}");
        }
    }

    public int Fork(long workNs = SchedKernel.InfiniteWork, int nice = 0, string comm = "t") =>
        Kernel.Fork(comm, nice, Kernel.Topology.Possible, SchedPolicy.Normal, workNs, new LogLinearHistogram());

    /// <summary>Loads and links a C# scheduler.</summary>
    public void LoadCSharp(object consumer, IReadOnlyList<ConsumerGlobal>? globals = null)
    {
        if (globals is { Count: > 0 })
        {
            Assert.That(ConsumerGlobals.Apply(consumer, globals), Is.Empty);
        }
        var r = StructOpsLoader.Load(Bpf, consumer, out var loaded);
        Assert.That(r.IsOk, r.ToString());
        Loaded = loaded;
        Assert.That(loaded!.Register().IsOk, Is.True);
    }

    /// <summary>Loads and links the struct_ops variable of the object at <paramref name="path"/>.</summary>
    public BpfResult LoadObject(string path, IReadOnlyList<ConsumerGlobal>? globals = null, string? variable = null)
    {
        var infos = ConsumerObjectLoader.LoadInto(Catalog, path);
        var info = variable is null ? infos.Single() : infos.Single(i => i.Name == variable);
        var r = ConsumerLoading.Load(Bpf, info, globals ?? [], out var loaded);
        if (!r.IsOk)
        {
            return r;
        }
        Loaded = loaded;
        return loaded!.Register();
    }

    /// <summary>The loaded object (after <see cref="LoadObject"/>).</summary>
    public LoadedObject Object => ConsumerLoading.Objects(Bpf).Single();

    public void WorkDone(int task, int cpu)
    {
        Kernel.Block(task);
        Sim.Schedule(Sim.Now + new SimTime(SleepNs + task * 100_000L), _handler, 0, task);
    }

    public void OnEvent(int kind, long arg)
    {
        int task = (int)arg;
        Kernel.SetWork(task, RunNs + task * 50_000L);
        Kernel.WakeUp(task);
    }

    public void RunMs(long ms) => Sim.RunUntil(Sim.Now + SimTime.FromMilliseconds(ms));

    public ref TaskStruct Task(int id) => ref Kernel.Tasks[id];

    /// <summary>Per-CPU timeline and per-task results, as text, for comparing two runs.</summary>
    public string Schedule()
    {
        Kernel.Finish();
        var sb = new System.Text.StringBuilder();
        for (int t = 0; t < Kernel.Tasks.Count; t++)
        {
            sb.Append($"task {t} {Kernel.Tasks[t].CommString}: runtime {Kernel.Metrics.Runtime(t)} switches {Kernel.Metrics.VoluntarySwitches(t)}/{Kernel.Metrics.InvoluntarySwitches(t)} migrations {Kernel.Metrics.TaskMigrations(t)}\n");
        }
        foreach (var s in Kernel.Metrics.Timeline)
        {
            sb.Append($"{s.Cpu} {s.StartNs} {s.EndNs} {s.Task} {s.Class}\n");
        }
        return sb.ToString();
    }
}
