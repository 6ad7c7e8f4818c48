using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace SpinningScx;

/// <summary>A global FIFO whose ops.enqueue loops forever from its 40th call on (a bug a verifier would have refused).</summary>
[StructOps("sched_ext_ops", Name = "t_spin", Link = true, Description = "never returns from enqueue after 40 calls (tests)")]
public sealed class SpinningScx : SchedExtOpsProgram
{
    private const ulong Dsq = 0;
    private int _enqueues;

    public override int Init()
    {
        Scx.CreateDsq(Dsq, -1);
        return 0;
    }

    public override void Enqueue(ref TaskStruct p, ulong enqFlags)
    {
        if (++_enqueues >= 40)
        {
            while (true)
            {
                // never returns; the process exits around it
            }
        }
        Scx.Dispatch(ref p, Dsq, Scx.SliceDfl, enqFlags);
    }

    public override void Dispatch(int cpu, ref TaskStruct prev) => Scx.Consume(Dsq);
}
