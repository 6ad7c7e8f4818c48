using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>
/// A struct_ops type a subsystem offers (struct bpf_struct_ops): its name, members in kernel order with their
/// layout, and the callbacks the runtime calls as kernel/bpf/bpf_struct_ops.c does. The framework knows nothing of
/// what the members mean; a subsystem subclasses this and registers it with <see cref="BpfSystem.RegisterStructOpsType"/>.
/// </summary>
public abstract class StructOpsType
{
    /// <summary>Where <c>data</c> starts in the map value: after <c>{refcnt, state}</c>, cacheline aligned.</summary>
    public const int DataOffset = 64;

    /// <summary>BPF_STRUCT_OPS_MAX_NR_MEMBERS.</summary>
    public const int MaxMembers = 64;

    private readonly Dictionary<string, StructOpsMember> _byName;

    /// <param name="name">The kernel struct name, e.g. <c>tcp_congestion_ops</c>.</param>
    /// <param name="members">Members in kernel order; offsets are computed with natural alignment.</param>
    /// <param name="structAlignment">The struct's alignment (64 for a ____cacheline_aligned struct), which rounds its size.</param>
    protected StructOpsType(string name, IEnumerable<StructOpsMember> members, int structAlignment = 8)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        var list = new List<StructOpsMember>();
        int offset = 0;
        foreach (var m in members)
        {
            offset = (offset + m.Alignment - 1) / m.Alignment * m.Alignment;
            list.Add(m with { Index = list.Count, Offset = offset });
            offset += m.Size;
        }
        if (list.Count > MaxMembers)
        {
            throw new ArgumentException($"{name} has {list.Count} members; at most {MaxMembers}", nameof(members));
        }
        Members = list;
        DataSize = (offset + structAlignment - 1) / structAlignment * structAlignment;
        var holes = new List<(int, int)>();
        int end = 0;
        foreach (var m in list)
        {
            if (m.Offset > end)
            {
                holes.Add((end, m.Offset - end));
            }
            end = m.Offset + m.Size;
        }
        if (DataSize > end)
        {
            holes.Add((end, DataSize - end));
        }
        Holes = holes;
        _byName = list.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }

    /// <summary>The kernel struct name.</summary>
    public string Name { get; }

    public IReadOnlyList<StructOpsMember> Members { get; }

    /// <summary>sizeof(struct T).</summary>
    public int DataSize { get; }

    /// <summary>Padding inside the struct (between members and at the end), as (offset, length) within data.</summary>
    public IReadOnlyList<(int Offset, int Length)> Holes { get; }

    /// <summary>
    /// The map's value_size: sizeof(struct bpf_struct_ops_T). Its data member is ____cacheline_aligned_in_smp
    /// (register_bpf_struct_ops in include/linux/bpf.h), so the whole value is a multiple of 64 bytes: 512 for
    /// sched_ext_ops, whose 424 bytes of data end at 488.
    /// </summary>
    public int ValueSize => (DataOffset + DataSize + DataOffset - 1) / DataOffset * DataOffset;

    /// <summary>The member called <paramref name="name"/>, or null.</summary>
    public StructOpsMember? FindMember(string name) => _byName.GetValueOrDefault(name);

    /// <summary>check_member: a further check at program load. Default: accept.</summary>
    public virtual BpfResult CheckMember(StructOpsMember member, ProgramSpec program) => BpfResult.Ok;

    /// <summary>
    /// init_member: copies and checks a non-function member from the user value into the kernel data. Return
    /// <paramref name="handled"/> = false to let the framework apply its rule (data members must be zero).
    /// </summary>
    public virtual BpfResult InitMember(StructOpsMember member, ReadOnlySpan<byte> userData, Span<byte> kernelData, out bool handled)
    {
        handled = false;
        return BpfResult.Ok;
    }

    /// <summary>validate: called on the populated value before registration. Default: accept.</summary>
    public virtual BpfResult Validate(StructOpsKernelData data) => BpfResult.Ok;

    /// <summary>reg: make the implementation available (a link, or null for a plain map).</summary>
    public abstract BpfResult Register(StructOpsKernelData data, StructOpsLink? link);

    /// <summary>unreg: withdraw it; existing users keep their references.</summary>
    public abstract void Unregister(StructOpsKernelData data, StructOpsLink? link);

    /// <summary>Whether <see cref="Update"/> is implemented (a NULL update op gives EOPNOTSUPP on link update).</summary>
    public virtual bool SupportsUpdate => false;

    /// <summary>update: replace <paramref name="old"/> by <paramref name="data"/> for new users (link update).</summary>
    public virtual BpfResult Update(StructOpsKernelData data, StructOpsKernelData old, StructOpsLink? link) =>
        BpfResult.Fail(Errno.EOPNOTSUPP, $"{Name} does not support link update");

    public override string ToString() => Name;

    /// <summary>
    /// How the type runs bytecode programs (clang-compiled objects): its helpers, kfuncs, writable context fields and
    /// trampolines. Null for a type whose subsystem runs only managed consumers.
    /// </summary>
    public virtual Ebpf.Loading.BytecodeSupport? Bytecode => null;
}
