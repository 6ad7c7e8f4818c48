using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Programs.Sched;

/// <summary>
/// A deliberately broken scheduler that demonstrates the watchdog: like scx_simple in FIFO mode, but it keeps the
/// first task it is given (the "victim") on its side and never dispatches it, so that task stays runnable without
/// running and after timeout_ms (3 s here) the kernel ejects the scheduler with SCX_EXIT_ERROR_STALL
/// "⟨comm⟩[⟨pid⟩] failed to run for …", and every task goes back to the fair class.
/// </summary>
[StructOps(SchedExtOpsType.TypeName, Name = "stall", Id = "scx_stall", Link = true,
    Description = "sched_ext: keeps one task queued forever; the watchdog ejects it after timeout_ms (3 s)")]
public sealed class ScxStall : SchedExtOpsProgram
{
    private const ulong SharedDsq = 0;
    private int _victim = -1;

    /// <summary>timeout_ms: 3 s, so the demonstration is short.</summary>
    [StructOpsOption("timeout_ms", Description = "the watchdog timeout in ms (at most 30000)")]
    public uint Timeout = 3000;

    public override uint TimeoutMs => Timeout;

    /// <summary>The pid of the task held back (0 until one is enqueued).</summary>
    public int VictimPid { get; private set; }

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        if (_victim < 0 || _victim == p.Pid)
        {
            // Keep it: never dispatched, so it stays QUEUED on the BPF side.
            _victim = p.Pid;
            VictimPid = p.Pid;
            return;
        }
        Scx.Dispatch(ref p, SharedDsq, Scx.SliceDfl, enqFlags);
    }

    public override void Dispatch(int cpu, ref TaskStruct prev) => Scx.Consume(SharedDsq);

    public override int Init() => Scx.CreateDsq(SharedDsq, -1);

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
