using BpfSim.Core.Metrics;
using BenchmarkDotNet.Attributes;
using BpfSim.Bench.Ebpf;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Programs;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Scheduler;

/// <summary>
/// The cost of one sched_ext callback through struct_ops: scx_simple's <c>running</c> and <c>stopping</c> (vtime mode:
/// advance vtime_now, charge the used slice to dsq_vtime) called through the <see cref="SchedExtOps"/> table the ext
/// class resolved from the registered sched_ext_ops map — for the C# <see cref="ScxSimple"/> the loader's delegate to
/// its method, for Programs/bpf/obj/scx_simple.bpf.o the bytecode trampoline (task_struct bound as a region, ctx[]
/// written) and the interpreter — with the consumer's guard entered and left around each call as the ext class does
/// (SCX_CALL_OP). Each scheduler runs on its own kernel (64 CPUs, 8 hogs, 20 ms simulated so every task is enabled
/// and has run); the same task is passed each time. One operation = one call (running and stopping alternate).
/// </summary>
/// <remarks>
/// The ext class's own part of a call (kf_mask and kf_tasks saved and set, Scx.Current, the BPF program scope for
/// per-CPU maps) is not in these numbers: it is private to the class, and the whole-scenario bench
/// (<c>sched --scheduler scx_simple</c>) measures it with everything else.
/// </remarks>
[MemoryDiagnoser]
public class SchedExtCallBench
{
    private const int Batch = 1024;

    private Rig _cs = null!;
    private Rig _obj = null!;

    private sealed class Rig
    {
        public required SchedKernel Kernel { get; init; }
        public required SchedExtOps Ops { get; init; }
        public required ConsumerGuard? Guard { get; init; }
        public int Task { get; init; }
    }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddBpfSim().AddScheduler().AddBuiltinPrograms().BuildServiceProvider();
        var factory = services.GetRequiredService<BpfSimFactory>();
        _cs = Build(factory, bpf =>
        {
            StructOpsLoader.Load(bpf, new ScxSimple(), out var loaded).ThrowIfFailed();
            loaded!.Register().ThrowIfFailed();
        });
        _obj = Build(factory, bpf =>
        {
            var catalog = new ConsumerCatalog();
            var info = ConsumerObjectLoader.LoadInto(catalog, BpfObjectFiles.PathOf("scx_simple")).Single();
            ConsumerLoading.Load(bpf, info, [], out var loaded).ThrowIfFailed();
            loaded!.Register().ThrowIfFailed();
        });
        // Both sides compute the same thing: after the same calls on equal tasks, equal dsq_vtime.
        ulong a = _cs.Kernel.Tasks[_cs.Task].Scx.DsqVtime, b = _obj.Kernel.Tasks[_obj.Task].Scx.DsqVtime;
        RunningStopping_CSharp();
        RunningStopping_Bytecode();
        ulong da = _cs.Kernel.Tasks[_cs.Task].Scx.DsqVtime - a, db = _obj.Kernel.Tasks[_obj.Task].Scx.DsqVtime - b;
        if (da != db)
        {
            throw new InvalidOperationException($"the C# port and the object disagree on stopping: dsq_vtime +{da} and +{db}");
        }
        Console.WriteLine($"// dsq_vtime advanced by {da} per {Batch} calls on both sides");
    }

    private static Rig Build(BpfSimFactory factory, Action<BpfSystem> load)
    {
        const int cpus = 64;
        var bpf = factory.Create(new BpfSystemOptions { Cpus = cpus });
        var kernel = new SchedKernel(bpf.Simulator, new CpuTopology(cpus), 1000, core => new FairSchedClass(core));
        var ext = new ExtSchedClass(kernel, kernel.Fair);
        kernel.AttachExt(ext);
        bpf.RegisterStructOpsType(new SchedExtOpsType(ext));
        for (int i = 0; i < 8; i++)
        {
            kernel.Fork("hog", 0, kernel.Topology.Possible, BpfSim.Scheduler.Tasks.SchedPolicy.Normal, SchedKernel.InfiniteWork, new LogLinearHistogram());
        }
        load(bpf);
        bpf.Simulator.RunUntil(SimTime.FromMilliseconds(20));
        if (!ext.Enabled || ext.Ops is null)
        {
            throw new InvalidOperationException("the scheduler did not enable");
        }
        return new Rig { Kernel = kernel, Ops = ext.Ops, Guard = ext.Guard, Task = 0 };
    }

    private static void Calls(Rig rig)
    {
        var ops = rig.Ops;
        var guard = rig.Guard;
        var running = ops.Running!;
        var stopping = ops.Stopping!;
        ref var p = ref rig.Kernel.Tasks[rig.Task];
        for (int i = 0; i < Batch / 2; i++)
        {
            p.Scx.Slice = 15_000_000; // 5 ms of the 20 ms default slice used
            guard?.Enter(0);
            running(ref p);
            guard?.Exit();
            guard?.Enter(0);
            stopping(ref p, true);
            guard?.Exit();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public void RunningStopping_CSharp() => Calls(_cs);

    [Benchmark(OperationsPerInvoke = Batch)]
    public void RunningStopping_Bytecode() => Calls(_obj);
}
