using System.Buffers.Binary;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>
/// BPF_MAP_TYPE_STRUCT_OPS (kernel/bpf/bpf_struct_ops.c): key 4, max_entries 1, value
/// <c>{refcnt u32 @0, state u32 @4, data @64}</c>. Update of key 0 populates it once (INIT → INUSE, or READY in
/// link mode); delete unregisters it (INUSE → TOBEFREE); lookup shows program ids in function slots, the live state
/// and the refcnt as users see it. It is freed, after a grace period, when its last reference goes.
/// </summary>
public sealed class StructOpsMap : BpfMap
{
    private readonly byte[] _uvalue;
    private readonly List<StructOpsTimelineEntry> _timeline = [];
    private StructOpsState _state;
    private StructOpsKernelData? _kdata;
    private long _lastReported = -1;
    private long _maxReported;
    private bool _quiet;

    internal StructOpsMap(BpfSystem system, MapSpec spec, StructOpsType type) : base(system, spec)
    {
        StructOpsType = type;
        _uvalue = new byte[type.ValueSize];
        // The kernel frees struct_ops maps after synchronize_rcu_mult(call_rcu, call_rcu_tasks).
        FreeAfterGracePeriod = true;
        Record("created");
    }

    public StructOpsType StructOpsType { get; }

    public StructOpsState State => _state;

    /// <summary>Created with BPF_F_LINK: registered through a link, not by update.</summary>
    public bool IsLinkMode => (Flags & MapFlags.Link) != 0;

    /// <summary>Links currently attached through this map (each holds a map reference).</summary>
    public int LinkCount { get; private set; }

    /// <summary>The populated value, or null in INIT.</summary>
    public StructOpsKernelData? KernelData => _kdata;

    /// <summary>
    /// The refcnt lookup reports: map references minus user (fd) references, i.e. the registration or link plus one
    /// per user (bpf_struct_ops_map_sys_lookup_elem).
    /// </summary>
    public long ReportedRefCount => Math.Max(0, RefCount - UserCount);

    /// <summary>Every state and refcnt change so far, in simulated time.</summary>
    public IReadOnlyList<StructOpsTimelineEntry> Timeline => _timeline;

    /// <summary>The largest refcnt reported so far.</summary>
    public long MaxReportedRefCount => _maxReported;

    public override int Count => _state == StructOpsState.Init ? 0 : 1;

    /// <summary>bpf_struct_ops_map_alloc_check and the value-size check of map create.</summary>
    internal static BpfResult CheckSpec(MapSpec spec, StructOpsType? type)
    {
        if (spec.KeySize != 4 || spec.MaxEntries != 1 || (spec.Flags & ~(MapFlags.Link | MapFlags.VtypeBtfObjFd)) != 0 ||
            string.IsNullOrEmpty(spec.StructOpsType))
        {
            return BpfResult.Fail(Errno.EINVAL, "a struct_ops map needs key_size 4, max_entries 1, flags within BPF_F_LINK, and a struct_ops type");
        }
        if (type is null)
        {
            return BpfResult.Fail(Errno.ENOTSUPP, $"struct_ops type '{spec.StructOpsType}' is not registered");
        }
        if (spec.ValueSize != type.ValueSize)
        {
            return BpfResult.Fail(Errno.EINVAL, $"value_size {spec.ValueSize} is not sizeof(bpf_struct_ops_{type.Name}) = {type.ValueSize}");
        }
        return BpfResult.Ok;
    }

    private void SetState(StructOpsState state, string why)
    {
        _state = state;
        Record(why);
    }

    private void Record(string why)
    {
        long reported = IsDead ? 0 : ReportedRefCount;
        _lastReported = reported;
        _maxReported = Math.Max(_maxReported, reported);
        _timeline.Add(new StructOpsTimelineEntry(System.Simulator.Now, _state, reported, why));
    }

    private protected override void OnRefCountChanged()
    {
        if (_quiet)
        {
            return;
        }
        long reported = IsDead ? 0 : ReportedRefCount;
        if (reported != _lastReported)
        {
            Record(reported > _lastReported ? "ref+" : "ref-");
        }
    }

    // ---- syscall side ----

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller)
    {
        if (flags != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "flags must be 0 for a struct_ops map");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(key) != 0)
        {
            return BpfResult.Fail(Errno.E2BIG, "the only key of a struct_ops map is 0");
        }
        if (value[..StructOpsType.DataOffset].IndexOfAnyExcept((byte)0) >= 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "common.refcnt, common.state and the padding before data must be zero");
        }
        foreach (var (offset, length) in StructOpsType.Holes)
        {
            if (value.Slice(StructOpsType.DataOffset + offset, length).IndexOfAnyExcept((byte)0) >= 0)
            {
                return BpfResult.Fail(Errno.EINVAL, $"padding at data offset {offset} ({length} bytes) must be zero (check_zero_holes)");
            }
        }
        int dataEnd = StructOpsType.DataOffset + StructOpsType.DataSize;
        if (value[dataEnd..].IndexOfAnyExcept((byte)0) >= 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"the value's padding after data (bytes {dataEnd}..{value.Length - 1}) must be zero (check_zero_holes)");
        }
        if (_state != StructOpsState.Init)
        {
            return BpfResult.Fail(Errno.EBUSY, $"map is {_state.KernelName()}: a struct_ops map is populated only once");
        }
        var type = StructOpsType;
        var data = new byte[type.DataSize];
        var programs = new BpfProgram?[type.Members.Count];
        var r = Populate(value[StructOpsType.DataOffset..], caller, data, programs);
        if (r.IsOk)
        {
            _kdata = new StructOpsKernelData(this, programs, data);
            r = type.Validate(_kdata);
        }
        if (r.IsOk)
        {
            value.CopyTo(_uvalue);
            foreach (var m in type.Members.Where(m => m.IsFunction))
            {
                BinaryPrimitives.WriteUInt64LittleEndian(_uvalue.AsSpan(StructOpsType.DataOffset + m.Offset), programs[m.Index]?.Id ?? 0);
            }
            if (IsLinkMode)
            {
                SetState(StructOpsState.Ready, "populated");
                return BpfResult.Ok;
            }
            r = type.Register(_kdata!, null);
        }
        if (!r.IsOk)
        {
            // reset_unlock: drop everything so the caller may retry.
            foreach (var p in programs)
            {
                p?.Put();
            }
            _kdata = null;
            Array.Clear(_uvalue);
            return r;
        }
        _quiet = true;
        Inc(); // the registration holds a map reference
        _quiet = false;
        SetState(StructOpsState.InUse, "registered");
        return BpfResult.Ok;
    }

    private BpfResult Populate(ReadOnlySpan<byte> udata, BpfProcess caller, Span<byte> kdata, BpfProgram?[] programs)
    {
        var type = StructOpsType;
        foreach (var m in type.Members)
        {
            var u = udata.Slice(m.Offset, m.Size);
            var r = type.InitMember(m, u, kdata.Slice(m.Offset, m.Size), out bool handled);
            if (!r.IsOk)
            {
                return r;
            }
            if (handled)
            {
                continue;
            }
            if (!m.IsFunction)
            {
                if (u.IndexOfAnyExcept((byte)0) >= 0)
                {
                    return BpfResult.Fail(Errno.EINVAL, $"member {m.Name} must be zero");
                }
                continue;
            }
            int fd = (int)BinaryPrimitives.ReadUInt64LittleEndian(u);
            if (fd == 0)
            {
                continue;
            }
            switch (caller.Get(fd))
            {
                case null:
                    return BpfResult.Fail(Errno.EBADF, $"member {m.Name}: program fd {fd} is not open");
                case BpfProgram p when p.Type == ProgramType.StructOps && p.StructOpsType == type && p.Member!.Index == m.Index:
                    p.Inc();
                    programs[m.Index] = p;
                    break;
                case BpfProgram p:
                    return BpfResult.Fail(Errno.EINVAL,
                        $"member {m.Name}: program {p.Name} (id {p.Id}) implements {p.StructOpsType?.Name ?? p.Type.ToString()}.{p.Member?.Name ?? "-"}, not {type.Name}.{m.Name}");
                default:
                    return BpfResult.Fail(Errno.EINVAL, $"member {m.Name}: fd {fd} is not a program");
            }
        }
        var missing = type.Members.FirstOrDefault(m => m.Mandatory && programs[m.Index] is null);
        return missing is null
            ? BpfResult.Ok
            : BpfResult.Fail(Errno.EINVAL, $"mandatory member {missing.Name} of {type.Name} has no program");
    }

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(key) != 0)
        {
            return BpfResult.Fail(Errno.ENOENT, "the only key of a struct_ops map is 0");
        }
        if (_state == StructOpsState.Init)
        {
            value.Clear();
            return BpfResult.Ok;
        }
        _uvalue.CopyTo(value);
        BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)ReportedRefCount);
        BinaryPrimitives.WriteUInt32LittleEndian(value[4..], (uint)_state);
        return BpfResult.Ok;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key)
    {
        if (IsLinkMode)
        {
            return BpfResult.Fail(Errno.EOPNOTSUPP, "a link-mode struct_ops map is unregistered by detaching its link");
        }
        switch (_state)
        {
            case StructOpsState.InUse:
                // bpf_struct_ops_map_delete_elem (kernel/bpf/bpf_struct_ops.c): the state moves at once (a dump during the unreg's grace period
                // shows TOBEFREE), then the type's unreg waits its grace period, then the registration's reference goes.
                _state = StructOpsState.ToBeFree;
                Record("unregistered");
                StructOpsType.Unregister(_kdata!, null);
                Put(); // recorded as ref- when it changes what a dump reports
                return BpfResult.Ok;
            case StructOpsState.ToBeFree:
                return BpfResult.Fail(Errno.EINPROGRESS, "already unregistered (TOBEFREE)");
            case StructOpsState.Init:
                return BpfResult.Fail(Errno.ENOENT, "not populated (INIT)");
            default:
                // Unreachable for a plain map; the kernel treats it as not found.
                return BpfResult.Fail(Errno.ENOENT, $"unexpected state {_state.KernelName()}");
        }
    }

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        if (!key.IsEmpty && BinaryPrimitives.ReadUInt32LittleEndian(key) == 0)
        {
            return BpfResult.Fail(Errno.ENOENT, "0 is the only key");
        }
        BinaryPrimitives.WriteUInt32LittleEndian(next, 0);
        return BpfResult.Ok;
    }

    // Programs cannot look up a struct_ops map (the op returns -EINVAL, i.e. NULL to the program).
    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) => default;

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => Errno.EINVAL;

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) => Errno.EINVAL;

    internal void AddLink(string why)
    {
        LinkCount++;
        Record(why);
    }

    internal void RemoveLink(string why)
    {
        LinkCount--;
        Record(why);
    }

    private protected override void OnFree()
    {
        Record("freed");
        if (_kdata is not null)
        {
            foreach (var p in _kdata.Programs)
            {
                p?.Put();
            }
        }
    }
}
