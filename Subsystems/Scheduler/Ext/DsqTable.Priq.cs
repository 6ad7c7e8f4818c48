namespace BpfSim.Scheduler.Ext;

// dsq->priq (kernel/sched/ext.c 6.12: dispatch_enqueue's rb_add with scx_dsq_priq_less, and the list insert after
// rb_prev): the PRIQ tasks of each DSQ in a DsqPriq keyed by vtime, a new task after every equal vtime, so that equal
// vtimes keep arrival order as rb_add puts an equal key after. The key is the dsq_vtime the task was inserted with
// (scx_bpf_dsq_insert_vtime sets it), kept per task so that the removal finds it even if a program changed dsq_vtime
// meanwhile; the queue only finds where the list insert goes, the list stays the queue.
public sealed partial class DsqTable
{
    private DsqPriq?[] _priq = [];
    private ulong[] _pKey = [];

    private void GrowPriq(int n)
    {
        if (n > _pKey.Length)
        {
            Array.Resize(ref _pKey, n);
        }
    }

    /// <summary>Makes room for DSQ indices below <paramref name="n"/> (a DSQ's queue is made at its first PRIQ insert).</summary>
    private void GrowPriqDsqs(int n)
    {
        if (n > _priq.Length)
        {
            Array.Resize(ref _priq, n);
        }
    }

    /// <summary>
    /// Adds <paramref name="task"/> to <paramref name="dsq"/>'s queue; returns the last PRIQ task whose vtime is not
    /// after <paramref name="vtime"/> (the new node's rb_prev, where its list insert goes), or −1.
    /// </summary>
    private int PriqAdd(int dsq, int task, ulong vtime)
    {
        _pKey[task] = vtime;
        return (_priq[dsq] ??= new DsqPriq()).Insert(task, vtime);
    }

    private void PriqRemove(int dsq, int task)
    {
        var queue = _priq[dsq] ?? throw new InvalidOperationException($"sched_ext: task {task} is not in the vtime queue it is being removed from");
        queue.Remove(task, _pKey[task]);
    }
}
