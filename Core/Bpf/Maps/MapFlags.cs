namespace BpfSim.Core.Bpf.Maps;

/// <summary>Map creation flags (<c>map_flags</c> of BPF_MAP_CREATE), with the uapi bit values.</summary>
[Flags]
public enum MapFlags : uint
{
    None = 0,
    NoPrealloc = 1 << 0,
    NoCommonLru = 1 << 1,
    NumaNode = 1 << 2,
    RdOnly = 1 << 3,
    WrOnly = 1 << 4,
    StackBuildId = 1 << 5,
    ZeroSeed = 1 << 6,
    RdOnlyProg = 1 << 7,
    WrOnlyProg = 1 << 8,
    Clone = 1 << 9,
    Mmapable = 1 << 10,
    PreserveElems = 1 << 11,
    /// <summary>An inner-map template whose max_entries need not match (array_map_meta_equal).</summary>
    InnerMap = 1 << 12,
    /// <summary>A struct_ops map registered through a link (BPF_F_LINK).</summary>
    Link = 1 << 13,
    VtypeBtfObjFd = 1 << 15,
}

/// <summary>BPF_MAP_UPDATE_ELEM flags (include/uapi/linux/bpf.h).</summary>
public static class UpdateFlags
{
    /// <summary>Create a new element or update an existing one.</summary>
    public const ulong Any = 0;
    /// <summary>Create a new element only if it does not exist (EEXIST otherwise).</summary>
    public const ulong NoExist = 1;
    /// <summary>Update an existing element only (ENOENT otherwise).</summary>
    public const ulong Exist = 2;
    /// <summary>Spin-lock the value; bpfsim values carry no bpf_spin_lock, so this is always EINVAL.</summary>
    public const ulong FLock = 4;
}
