namespace BpfSim.Core.Ebpf.Memory;

/// <summary>
/// A region of an <see cref="AddressSpace"/>: its number, the upper half of every address inside it (see
/// <see cref="AddressSpace.AddressOf"/>). The default value is no region.
/// </summary>
public readonly record struct RegionHandle(int Value)
{
    /// <summary>Whether this names a region at all (handle 0 never does).</summary>
    public bool IsValid => Value > 0;
}
