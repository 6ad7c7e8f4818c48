namespace BpfSim.Core.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_HASH.</summary>
public sealed class HashMap : HashMapBase
{
    internal HashMap(BpfSystem system, MapSpec spec) : base(system, spec, perCpu: false)
    {
    }
}
