using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// A live map. User space reaches it through fds and <see cref="BpfSystem"/> commands (bytes in, bytes out, errno
/// on failure); programs call <see cref="Lookup"/>, <see cref="Update"/> and <see cref="Delete"/> as the
/// bpf_map_*_elem helpers, which for per-CPU maps touch the current CPU's slot only.
/// </summary>
/// <remarks>Mirrors <c>struct bpf_map</c> and its <c>bpf_map_ops</c> (include/linux/bpf.h).</remarks>
public abstract class BpfMap : BpfObject
{
    private long _userCount = 1;

    private protected BpfMap(BpfSystem system, MapSpec spec) : base(system, BpfObjectKind.Map)
    {
        Type = spec.Type;
        KeySize = (int)spec.KeySize;
        ValueSize = (int)spec.ValueSize;
        MaxEntries = spec.MaxEntries;
        // RDONLY/WRONLY describe the creating fd, not the map (bpf_map_flags_retain_permanent).
        Flags = spec.Flags & ~(MapFlags.RdOnly | MapFlags.WrOnly);
        Name = spec.Name;
        if (spec.Btf is not null && spec.BtfValueTypeId != 0)
        {
            Btf = spec.Btf;
            BtfKeyTypeId = spec.BtfKeyTypeId;
            BtfValueTypeId = spec.BtfValueTypeId;
        }
    }

    public MapType Type { get; }
    public int KeySize { get; }
    public int ValueSize { get; }
    public uint MaxEntries { get; }
    public MapFlags Flags { get; }
    public string Name { get; }

    /// <summary>The BTF of the key and value types (<c>map-&gt;btf</c>), or null if the map was created without.</summary>
    public BtfSpec? Btf { get; }

    /// <summary><c>btf_key_type_id</c>: the key's type in <see cref="Btf"/>, or 0.</summary>
    public uint BtfKeyTypeId { get; }

    /// <summary><c>btf_value_type_id</c>: the value's type in <see cref="Btf"/>, or 0 when the map has no BTF.</summary>
    public uint BtfValueTypeId { get; }

    /// <summary>References from user space (fds and pins); a subset of <see cref="BpfObject.RefCount"/>.</summary>
    public long UserCount => _userCount;

    /// <summary>Bytes of a value as bpf(2) copies it (bpf_map_value_size): per-CPU maps one 8-byte-aligned slot per possible CPU, map-in-map 4.</summary>
    public virtual int SyscallValueSize => ValueSize;

    /// <summary>Elements currently present (arrays: always max_entries).</summary>
    public abstract int Count { get; }

    public BpfMapInfo Info => new(Id, Type.ShortName(), Name, (uint)Flags, (uint)KeySize, (uint)ValueSize, MaxEntries)
    {
        BtfKeyTypeId = BtfKeyTypeId,
        BtfValueTypeId = BtfValueTypeId,
    };

    internal void IncWithUref()
    {
        // User count first, so that refcnt - usercnt never blips while both rise.
        _userCount++;
        Inc();
    }

    internal void PutWithUref()
    {
        if (--_userCount == 0)
        {
            OnReleaseUref();
        }
        Put();
    }

    /// <summary>The last user reference went (map_release_uref).</summary>
    private protected virtual void OnReleaseUref()
    {
    }

    // ---- syscall side (BpfSystem checks fds, sizes and flags common to all maps first) ----

    internal abstract BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value);

    internal abstract BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller);

    internal abstract BpfResult SysDelete(ReadOnlySpan<byte> key);

    /// <summary>get_next_key; an empty <paramref name="key"/> stands for the NULL key (start of iteration).</summary>
    internal abstract BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next);

    internal virtual BpfResult SysLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value) =>
        BpfResult.Fail(Errno.ENOTSUPP, $"not supported for {Type.KernelName()} (the kernel pops queue/stack maps and deletes from hash maps only)");

    // ---- program side: the helpers a running program calls ----

    /// <summary>
    /// bpf_map_lookup_elem from a program: the value in place (a pointer into the map), for per-CPU maps the current
    /// CPU's slot; empty when the key is missing. Writes through the span change the map, as in the kernel.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called outside a program, or on a freed map (use-after-free).</exception>
    public Span<byte> Lookup(ReadOnlySpan<byte> key)
    {
        int cpu = CheckProgramAccess(key);
        return ProgLookup(key, cpu);
    }

    /// <summary>
    /// bpf_map_lookup_elem from a bytecode program: where the value lives (array and offset, <see cref="ValueSize"/>
    /// bytes), so the program's address space can map it in place; false when the key is missing.
    /// </summary>
    /// <exception cref="NotSupportedException">The map keeps its values elsewhere (map-in-map, struct_ops).</exception>
    public bool LookupLocation(ReadOnlySpan<byte> key, out byte[] array, out int offset)
    {
        int cpu = CheckProgramAccess(key);
        return ProgLookupLocation(key, cpu, out array, out offset);
    }

    private protected virtual bool ProgLookupLocation(ReadOnlySpan<byte> key, int cpu, out byte[] array, out int offset) =>
        throw new NotSupportedException($"map {Name} ({Type.KernelName()}) has no values a program can point into");

    /// <summary>bpf_map_update_elem from a program. Returns the errno the helper would return.</summary>
    public Errno Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = UpdateFlags.Any)
    {
        int cpu = CheckProgramAccess(key);
        if (value.Length != ValueSize)
        {
            return Errno.EINVAL;
        }
        return ProgUpdate(key, value, flags, cpu);
    }

    /// <summary>bpf_map_delete_elem from a program.</summary>
    public Errno Delete(ReadOnlySpan<byte> key)
    {
        CheckProgramAccess(key);
        return ProgDelete(key);
    }

    /// <summary>
    /// bpf_map_lookup_elem on an outer map from a program: the inner map, or null. The program may use it until it
    /// returns (its RCU read-side section ends); the runtime records that it holds the outer map.
    /// </summary>
    public BpfMap? LookupInner(ReadOnlySpan<byte> key)
    {
        int cpu = CheckProgramAccess(key);
        var inner = ProgLookupInner(key);
        System.NoteProgramReader(this, cpu);
        return inner;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected int CheckProgramAccess(ReadOnlySpan<byte> key)
    {
        int cpu = System.Cpus.Current;
        if (cpu < 0 || IsFreed || key.Length != KeySize)
        {
            ThrowBadProgramAccess(key.Length);
        }
        return cpu;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadProgramAccess(int keyLength)
    {
        if (IsFreed)
        {
            throw new InvalidOperationException($"use-after-free: a program accessed map id {Id} ({Name}) after it was freed");
        }
        if (System.Cpus.Current < 0)
        {
            throw new InvalidOperationException("map helper called outside a program: enter a CPU with BpfSystem.EnterProgram first");
        }
        throw new ArgumentException($"key is {keyLength} bytes but map {Name} has key_size {KeySize} (the verifier rejects this)");
    }

    private protected abstract Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu);

    private protected abstract Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu);

    private protected abstract Errno ProgDelete(ReadOnlySpan<byte> key);

    private protected virtual BpfMap? ProgLookupInner(ReadOnlySpan<byte> key) =>
        throw new InvalidOperationException($"map {Name} is {Type.KernelName()}, not a map-in-map");

    /// <summary>Rounds a value size up to 8 bytes, the per-CPU and array element stride.</summary>
    internal static int RoundUp8(int size) => (size + 7) & ~7;
}
