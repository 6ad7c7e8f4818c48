namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK (kernel/bpf/queue_stack_maps.c): no keys, values pushed and popped or
/// peeked. Storage is one preallocated ring of max_entries + 1 slots with a head (next push) and a tail (oldest
/// element), so no push or pop allocates. A queue takes from the tail (FIFO), a stack from the slot before the head
/// (LIFO). User space pushes with BPF_MAP_UPDATE_ELEM, peeks with BPF_MAP_LOOKUP_ELEM and pops with
/// BPF_MAP_LOOKUP_AND_DELETE_ELEM; programs call bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem.
/// </summary>
public abstract class QueueStackMapBase : BpfMap
{
    /// <summary>KMALLOC_MAX_SIZE on x86-64 (1 &lt;&lt; (MAX_PAGE_ORDER 10 + PAGE_SHIFT 12)): the largest value_size.</summary>
    public const uint MaxValueSize = 1u << 22;

    private readonly byte[] _elements;
    // The ring has one slot more than max_entries, so head == tail means empty and head + 1 == tail means full.
    private readonly uint _size;
    private uint _head;
    private uint _tail;

    private protected QueueStackMapBase(BpfSystem system, MapSpec spec) : base(system, spec)
    {
        _size = spec.MaxEntries + 1;
        _elements = new byte[(long)_size * ValueSize];
    }

    public override int Count => (int)(_head >= _tail ? _head - _tail : _head + _size - _tail);

    /// <summary>queue_stack_map_alloc_check: the create-time rules for both types.</summary>
    internal static BpfResult CheckSpec(MapSpec spec)
    {
        // QUEUE_STACK_CREATE_FLAG_MASK: BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK.
        const MapFlags allowed = MapFlags.NumaNode | MapFlags.RdOnly | MapFlags.WrOnly | MapFlags.RdOnlyProg | MapFlags.WrOnlyProg;
        if (spec.MaxEntries == 0 || spec.KeySize != 0 || spec.ValueSize == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"{spec.Type.ShortName()} needs key_size 0, value_size > 0 and max_entries > 0");
        }
        if ((spec.Flags & ~allowed) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"map_flags 0x{(uint)spec.Flags:x} has bits a {spec.Type.ShortName()} does not accept (only NUMA_NODE and the access flags)");
        }
        // bpf_map_flags_access_ok.
        if ((spec.Flags & (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg)) == (MapFlags.RdOnlyProg | MapFlags.WrOnlyProg))
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
        }
        if (spec.ValueSize > MaxValueSize)
        {
            return BpfResult.Fail(Errno.E2BIG, $"value_size {spec.ValueSize} is over KMALLOC_MAX_SIZE ({MaxValueSize})");
        }
        if (spec.MaxEntries >= uint.MaxValue / spec.ValueSize)
        {
            return BpfResult.Fail(Errno.E2BIG, $"max_entries {spec.MaxEntries} times value_size {spec.ValueSize} reaches U32_MAX");
        }
        // queue_stack_map_alloc: bpf_map_area_alloc of (max_entries + 1) * value_size; bpfsim's one array cannot
        // be larger than Array.MaxLength, where the kernel would most likely fail the allocation too.
        if (((long)spec.MaxEntries + 1) * spec.ValueSize > Array.MaxLength)
        {
            return BpfResult.Fail(Errno.ENOMEM, $"{((long)spec.MaxEntries + 1) * spec.ValueSize} bytes of elements is more than bpfsim can allocate");
        }
        return BpfResult.Ok;
    }

    private static readonly BpfResult s_empty = BpfResult.Fail(Errno.ENOENT, "the map is empty");
    private static readonly BpfResult s_full = BpfResult.Fail(Errno.E2BIG, "the map is full (push with BPF_EXIST to overwrite the oldest element)");
    private static readonly BpfResult s_pushFlags = BpfResult.Fail(Errno.EINVAL, "push flags must be BPF_ANY or BPF_EXIST");
    private static readonly BpfResult s_noKeys = BpfResult.Fail(Errno.EINVAL, "queue and stack maps have no keys");

    private bool IsEmpty => _head == _tail;

    private bool IsFull => (_head + 1 >= _size ? 0 : _head + 1) == _tail;

    private Span<byte> Slot(uint index) => _elements.AsSpan((int)(index * (long)ValueSize), ValueSize);

    /// <summary>queue_stack_map_push_elem: BPF_EXIST makes room in a full map by dropping the oldest element.</summary>
    private BpfResult PushCore(ReadOnlySpan<byte> value, ulong flags)
    {
        if ((flags & UpdateFlags.NoExist) != 0 || flags > UpdateFlags.Exist)
        {
            return s_pushFlags;
        }
        if (IsFull)
        {
            if (flags != UpdateFlags.Exist)
            {
                return s_full;
            }
            // The oldest element is the tail's for a stack too: the bottom of the stack goes.
            _tail = _tail + 1 >= _size ? 0 : _tail + 1;
        }
        value.CopyTo(Slot(_head));
        _head = _head + 1 >= _size ? 0 : _head + 1;
        return BpfResult.Ok;
    }

    /// <summary>__queue_map_get / __stack_map_get: copies the next element out, removing it with <paramref name="delete"/>;
    /// an empty map zeroes <paramref name="value"/> and fails with ENOENT.</summary>
    private BpfResult GetCore(Span<byte> value, bool delete)
    {
        if (IsEmpty)
        {
            value.Clear();
            return s_empty;
        }
        uint index = IsStack ? (_head == 0 ? _size - 1 : _head - 1) : _tail;
        Slot(index).CopyTo(value);
        if (delete)
        {
            if (IsStack)
            {
                _head = index;
            }
            else
            {
                _tail = _tail + 1 >= _size ? 0 : _tail + 1;
            }
        }
        return BpfResult.Ok;
    }

    /// <summary>True for BPF_MAP_TYPE_STACK (pop and peek take the newest element), false for QUEUE (the oldest).</summary>
    private protected abstract bool IsStack { get; }

    // ---- syscall side (kernel/bpf/syscall.c routes QUEUE/STACK to the push/peek/pop ops) ----

    /// <summary>BPF_MAP_LOOKUP_ELEM: bpf_map_copy_value calls map_peek_elem.</summary>
    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value) => GetCore(value, delete: false);

    /// <summary>BPF_MAP_UPDATE_ELEM: bpf_map_update_value calls map_push_elem with the flags.</summary>
    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller) =>
        PushCore(value, flags);

    /// <summary>queue_stack_map_delete_elem: always EINVAL.</summary>
    internal override BpfResult SysDelete(ReadOnlySpan<byte> key) => s_noKeys;

    /// <summary>queue_stack_map_get_next_key: always EINVAL.</summary>
    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next) => s_noKeys;

    /// <summary>BPF_MAP_LOOKUP_AND_DELETE_ELEM: map_pop_elem.</summary>
    internal override BpfResult SysLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value) => GetCore(value, delete: true);

    // ---- program side ----

    /// <summary>bpf_map_push_elem from a program: 0, -E2BIG when full without BPF_EXIST, -EINVAL for other flags.</summary>
    public Errno Push(ReadOnlySpan<byte> value, ulong flags = UpdateFlags.Any)
    {
        CheckValueAccess(value.Length);
        return PushCore(value, flags).Errno;
    }

    /// <summary>bpf_map_pop_elem from a program: 0, or -ENOENT (and <paramref name="value"/> zeroed) when empty.</summary>
    public Errno Pop(Span<byte> value)
    {
        CheckValueAccess(value.Length);
        return GetCore(value, delete: true).Errno;
    }

    /// <summary>bpf_map_peek_elem from a program: as <see cref="Pop"/> without removing the element.</summary>
    public Errno Peek(Span<byte> value)
    {
        CheckValueAccess(value.Length);
        return GetCore(value, delete: false).Errno;
    }

    private void CheckValueAccess(int length)
    {
        CheckProgramAccess(default);
        if (length != ValueSize)
        {
            throw new ArgumentException($"value is {length} bytes but map {Name} has value_size {ValueSize} (the verifier rejects this)");
        }
    }

    // check_map_func_compatibility: a queue or stack accepts only the push, pop and peek helpers.
    private InvalidOperationException Incompatible(string helper) =>
        new($"cannot pass map_type {(uint)Type} into func {helper} (the verifier rejects this)");

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) => throw Incompatible("bpf_map_lookup_elem#1");

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) =>
        throw Incompatible("bpf_map_update_elem#2");

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) => throw Incompatible("bpf_map_delete_elem#3");
}
