namespace BpfSim.Core.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_ARRAY.</summary>
public sealed class ArrayMap : ArrayMapBase
{
    internal ArrayMap(BpfSystem system, MapSpec spec) : base(system, spec, perCpu: false)
    {
    }
}
