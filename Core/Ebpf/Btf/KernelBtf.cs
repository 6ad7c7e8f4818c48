using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// bpfsim's kernel BTF (what /sys/kernel/btf/vmlinux is to a real kernel): the standard typedefs, the struct_ops
/// framework's own types, then every subsystem's contribution. The result is immutable and deterministic.
/// </summary>
public static class KernelBtf
{
    /// <summary>The name prefix of a struct_ops map value type (kernel/bpf/bpf_struct_ops.c, STRUCT_OPS_VALUE_PREFIX).</summary>
    public const string StructOpsValuePrefix = "bpf_struct_ops_";

    /// <summary>Builds the kernel BTF from <paramref name="contributors"/>, in order.</summary>
    /// <exception cref="BtfException">Two contributors define the same type differently.</exception>
    public static BtfSpec Build(IEnumerable<IKernelBtfContributor> contributors)
    {
        ArgumentNullException.ThrowIfNull(contributors);
        var builder = new KernelBtfBuilder();
        builder.AddStandardTypedefs();
        builder.AddUapiTypes();
        foreach (var contributor in contributors)
        {
            contributor.AddTypes(builder);
        }
        return builder.Build();
    }

    /// <summary>
    /// Adds <c>struct bpf_struct_ops_&lt;name&gt; { struct bpf_struct_ops_common_value common; struct &lt;name&gt; data; }</c>,
    /// the map value type libbpf and bpftool look up for a struct_ops type (DEFINE_VALUE_TYPE in
    /// kernel/bpf/bpf_struct_ops.c), with data at <see cref="StructOpsType.DataOffset"/> and bpfsim's value size.
    /// </summary>
    /// <param name="builder">The kernel BTF being built.</param>
    /// <param name="type">The struct_ops type whose value is described.</param>
    /// <param name="dataType">The id of <c>struct &lt;name&gt;</c>, already defined.</param>
    /// <returns>The value type's id.</returns>
    public static uint AddStructOpsValue(this KernelBtfBuilder builder, StructOpsType type, uint dataType)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(type);
        return builder.Define(new BtfComposite(StructOpsValuePrefix + type.Name, false, (uint)type.ValueSize,
        [
            KernelBtfBuilder.Member("common", CommonValue(builder), 0),
            KernelBtfBuilder.Member("data", dataType, StructOpsType.DataOffset),
        ]));
    }

    // struct bpf_struct_ops_common_value { refcount_t refcnt; enum bpf_struct_ops_state state; } (include/linux/bpf.h).
    private static uint CommonValue(KernelBtfBuilder b)
    {
        if (b.Find("bpf_struct_ops_common_value", BtfKind.Struct) is uint existing)
        {
            return existing;
        }
        uint atomic = b.Add(new BtfComposite("", false, 4, [KernelBtfBuilder.Member("counter", b.Int("int"), 0)]));
        uint atomicT = b.Add(new BtfAlias(BtfKind.Typedef, "atomic_t", atomic));
        uint refcountStruct = b.Define(new BtfComposite("refcount_struct", false, 4, [KernelBtfBuilder.Member("refs", atomicT, 0)]));
        uint refcountT = b.Add(new BtfAlias(BtfKind.Typedef, "refcount_t", refcountStruct));
        uint state = b.Enum("bpf_struct_ops_state",
            ("BPF_STRUCT_OPS_STATE_INIT", (long)StructOpsState.Init), ("BPF_STRUCT_OPS_STATE_INUSE", (long)StructOpsState.InUse),
            ("BPF_STRUCT_OPS_STATE_TOBEFREE", (long)StructOpsState.ToBeFree), ("BPF_STRUCT_OPS_STATE_READY", (long)StructOpsState.Ready));
        return b.Define(new BtfComposite("bpf_struct_ops_common_value", false, 8,
        [
            KernelBtfBuilder.Member("refcnt", refcountT, 0),
            KernelBtfBuilder.Member("state", state, 4),
        ]));
    }
}
