namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// The bpf(2) UAPI types a real vmlinux BTF carries and BPF C code uses as constants (include/uapi/linux/bpf.h,
/// include/linux/stddef.h, Linux 6.12): enum bpf_map_type, the map-creation and update flags, the storage-get flags,
/// <c>enum { false, true }</c>, and the opaque structs programs embed in map values (bpf_timer, bpf_spin_lock).
/// Programs written against a bpftool-made vmlinux.h (tools/sched_ext) name these without defining them.
/// </summary>
public static class UapiBtf
{
    /// <summary>enum bpf_map_type in the kernel's order (values 0 … 31).</summary>
    private static readonly string[] s_mapTypes =
    [
        "UNSPEC", "HASH", "ARRAY", "PROG_ARRAY", "PERF_EVENT_ARRAY", "PERCPU_HASH", "PERCPU_ARRAY", "STACK_TRACE",
        "CGROUP_ARRAY", "LRU_HASH", "LRU_PERCPU_HASH", "LPM_TRIE", "ARRAY_OF_MAPS", "HASH_OF_MAPS", "DEVMAP", "SOCKMAP",
        "CPUMAP", "XSKMAP", "SOCKHASH", "CGROUP_STORAGE", "REUSEPORT_SOCKARRAY", "PERCPU_CGROUP_STORAGE", "QUEUE", "STACK",
        "SK_STORAGE", "DEVMAP_HASH", "STRUCT_OPS", "RINGBUF", "INODE_STORAGE", "TASK_STORAGE", "BLOOM_FILTER", "USER_RINGBUF",
    ];

    /// <summary>Adds the types (each once).</summary>
    public static void AddUapiTypes(this KernelBtfBuilder b)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.Find("bpf_map_type", BtfKind.Enum) is not null)
        {
            return;
        }
        b.Enum("bpf_map_type", s_mapTypes.Select((n, i) => ("BPF_MAP_TYPE_" + n, (long)i)).ToArray());
        // The anonymous enums of bpf.h: update flags, map-creation flags, storage-get flags.
        b.Add(new BtfEnum("", 4, false, false,
            [new("BPF_ANY", 0), new("BPF_NOEXIST", 1), new("BPF_EXIST", 2), new("BPF_F_LOCK", 4)]));
        b.Add(new BtfEnum("", 4, false, false,
        [
            new("BPF_F_NO_PREALLOC", 1), new("BPF_F_NO_COMMON_LRU", 2), new("BPF_F_NUMA_NODE", 4), new("BPF_F_RDONLY", 8),
            new("BPF_F_WRONLY", 16), new("BPF_F_STACK_BUILD_ID", 32), new("BPF_F_ZERO_SEED", 64), new("BPF_F_RDONLY_PROG", 128),
            new("BPF_F_WRONLY_PROG", 256), new("BPF_F_CLONE", 512), new("BPF_F_MMAPABLE", 1024), new("BPF_F_PRESERVE_ELEMS", 2048),
            new("BPF_F_INNER_MAP", 4096), new("BPF_F_LINK", 8192), new("BPF_F_PATH_FD", 16384), new("BPF_F_VTYPE_BTF_OBJ_FD", 32768),
            new("BPF_F_TOKEN_FD", 65536), new("BPF_F_SEGV_ON_FAULT", 131072), new("BPF_F_NO_USER_CONV", 262144),
        ]));
        b.Add(new BtfEnum("", 4, false, false, [new("BPF_LOCAL_STORAGE_GET_F_CREATE", 1), new("BPF_SK_STORAGE_GET_F_CREATE", 1)]));
        b.Add(new BtfEnum("", 4, false, false, [new("BPF_F_TIMER_ABS", 1), new("BPF_F_TIMER_CPU_PIN", 2)]));
        b.Add(new BtfEnum("", 4, false, false, [new("false", 0), new("true", 1)]));
        uint u64 = b.Type("__u64");
        uint u32 = b.Type("__u32");
        b.Define(new BtfComposite("bpf_timer", false, 16, [KernelBtfBuilder.Member("__opaque", b.Array(u64, 2), 0)]));
        b.Define(new BtfComposite("bpf_spin_lock", false, 4, [KernelBtfBuilder.Member("val", u32, 0)]));
    }
}
