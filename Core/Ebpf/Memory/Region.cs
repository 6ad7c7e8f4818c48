namespace BpfSim.Core.Ebpf.Memory;

/// <summary>One entry of the region table: where the bytes are and what may be done with them.</summary>
internal struct Region
{
    /// <summary>The backing array, or null for a call-scoped region (its bytes are a span bound per call).</summary>
    public byte[]? Array;

    public int Start;

    /// <summary>The length of an array-backed region (a call-scoped region's is its bound span's).</summary>
    public int Length;

    /// <summary>The span slot of a call-scoped region, else -1.</summary>
    public int Slot;

    public RegionKind Kind;

    /// <summary>What the region allows; None once unmapped.</summary>
    public MemoryAccess Access;

    /// <summary>
    /// What the fast path may grant without asking anyone: <see cref="Access"/> less Write when a filter must see
    /// each store.
    /// </summary>
    public MemoryAccess FastAccess;

    public WriteFilter? Filter;

    public string Name;
}
