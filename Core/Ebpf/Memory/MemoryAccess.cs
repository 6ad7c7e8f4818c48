namespace BpfSim.Core.Ebpf.Memory;

/// <summary>
/// What a region allows, and what an access does: a load reads, a store writes, an atomic read-modify-write does
/// both.
/// </summary>
[Flags]
public enum MemoryAccess
{
    /// <summary>Nothing: an unmapped region.</summary>
    None = 0,

    /// <summary>Loads.</summary>
    Read = 1,

    /// <summary>Stores.</summary>
    Write = 2,

    /// <summary>Loads and stores (atomics need both).</summary>
    ReadWrite = Read | Write,
}
