namespace BpfSim.Core.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_STACK: pop and peek take the newest element (LIFO; stack_map_ops).</summary>
public sealed class StackMap : QueueStackMapBase
{
    internal StackMap(BpfSystem system, MapSpec spec) : base(system, spec)
    {
    }

    private protected override bool IsStack => true;
}
