using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>A configurable scheduler for rule tests: each member runs the delegate given, if any.</summary>
[StructOps(SchedExtOpsType.TypeName, Name = "probe", Link = true)]
internal sealed class ProbeScheduler : SchedExtOpsProgram
{
    public delegate void EnqueueBody(ref TaskStruct p, ulong flags);
    public delegate int SelectBody(ref TaskStruct p, int prev, ulong wf);
    public delegate void DispatchBody(int cpu, ref TaskStruct prev);
    public delegate void TaskBody(ref TaskStruct p);

    public EnqueueBody? OnEnqueue { get; init; }
    public SelectBody? OnSelect { get; init; }
    public DispatchBody? OnDispatch { get; init; }
    public TaskBody? OnTick { get; init; }
    public TaskBody? OnRunning { get; init; }
    public TaskBody? OnEnable { get; init; }
    public Func<int>? OnInit { get; init; }
    public Func<TaskStruct, int>? OnInitTask { get; init; }
    public Action? OnDump { get; init; }
    public Action<int>? OnDumpCpu { get; init; }
    public ScxOpsFlags Flags { get; init; }
    public uint Batch { get; init; }

    public List<string> Calls { get; } = [];

    public override ScxOpsFlags OpsFlags => Flags;

    public override uint DispatchMaxBatch => Batch;

    public override int SelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags)
    {
        Calls.Add($"select_cpu {p.CommString}");
        return OnSelect is null ? prevCpu : OnSelect(ref p, prevCpu, wakeFlags);
    }

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        Calls.Add($"enqueue {p.CommString}");
        if (OnEnqueue is null)
        {
            Scx.Dispatch(ref p, 0, Scx.SliceDfl, enqFlags);
        }
        else
        {
            OnEnqueue(ref p, enqFlags);
        }
    }

    public override void Dispatch(int cpu, ref TaskStruct prev)
    {
        if (OnDispatch is null)
        {
            Scx.Consume(0);
        }
        else
        {
            OnDispatch(cpu, ref prev);
        }
    }

    public override void Tick(ref TaskStruct p) => OnTick?.Invoke(ref p);

    public override void Enable(ref TaskStruct p) => OnEnable?.Invoke(ref p);

    public override void Running(ref TaskStruct p)
    {
        Calls.Add($"running {p.CommString}");
        OnRunning?.Invoke(ref p);
    }

    public override int InitTask(ref TaskStruct p, in ScxInitTaskArgs args) => OnInitTask?.Invoke(p) ?? 0;

    public override int Init()
    {
        Scx.CreateDsq(0, -1);
        return OnInit?.Invoke() ?? 0;
    }

    public override void Exit(ScxExitInfo info) => base.Exit(info);

    public override void Dump(in ScxDumpCtx ctx)
    {
        if (OnDump is null)
        {
            base.Dump(ctx);
            return;
        }
        OnDump();
    }

    public override void DumpCpu(in ScxDumpCtx ctx, int cpu, bool idle)
    {
        if (OnDumpCpu is null)
        {
            base.DumpCpu(ctx, cpu, idle);
            return;
        }
        OnDumpCpu(cpu);
    }
}
