namespace BpfSim.Core.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_PERCPU_ARRAY: a program sees its CPU's slot; bpf(2) reads and writes every possible CPU's.</summary>
public sealed class PercpuArrayMap : ArrayMapBase
{
    internal PercpuArrayMap(BpfSystem system, MapSpec spec) : base(system, spec, perCpu: true)
    {
    }
}
