namespace BpfSim.Core.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_QUEUE: pop and peek take the oldest element (FIFO; queue_map_ops).</summary>
public sealed class QueueMap : QueueStackMapBase
{
    internal QueueMap(BpfSystem system, MapSpec spec) : base(system, spec)
    {
    }

    private protected override bool IsStack => false;
}
