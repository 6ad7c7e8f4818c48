using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BpfSim.Core.Bpf.Maps;

/// <summary>
/// A typed view of a map fd for unmanaged key and value types, whose sizes must equal the map's key_size and
/// value_size (checked once, here). Expected misses come back as false from the <c>Try</c> methods; any other
/// failure throws <see cref="BpfException"/> with the kernel's errno.
/// </summary>
/// <remarks>For per-CPU maps <typeparamref name="TValue"/> is one CPU's value; use <see cref="LookupPercpu"/> and
/// <see cref="UpdatePercpu"/> for all CPUs at once.</remarks>
public sealed class Map<TKey, TValue> : IDisposable
    where TKey : unmanaged
    where TValue : unmanaged
{
    private readonly BpfSystem _bpf;
    private readonly int _slot;

    private Map(BpfSystem bpf, int fd, BpfMap map)
    {
        _bpf = bpf;
        Fd = fd;
        Object = map;
        _slot = (Unsafe.SizeOf<TValue>() + 7) & ~7;
    }

    /// <summary>Creates a map from <paramref name="spec"/> (BPF_MAP_CREATE) and wraps its fd.</summary>
    /// <exception cref="BpfException">Creation failed, or the type sizes do not match the spec (EINVAL).</exception>
    public static Map<TKey, TValue> Create(BpfSystem bpf, MapSpec spec)
    {
        CheckSizes(spec.KeySize, spec.ValueSize, spec.Type, BpfCommand.MapCreate);
        bpf.MapCreate(spec, out int fd).ThrowIfFailed();
        bpf.GetMap(fd, out var map).ThrowIfFailed();
        return new Map<TKey, TValue>(bpf, fd, map);
    }

    /// <summary>Wraps an existing map fd of the caller.</summary>
    /// <exception cref="BpfException">The fd is not a map (EBADF/EINVAL), or the type sizes do not match it (EINVAL).</exception>
    public static Map<TKey, TValue> FromFd(BpfSystem bpf, int fd)
    {
        bpf.GetMap(fd, out var map).ThrowIfFailed();
        CheckSizes((uint)map.KeySize, (uint)map.ValueSize, map.Type, BpfCommand.MapLookupElem);
        return new Map<TKey, TValue>(bpf, fd, map);
    }

    private static void CheckSizes(uint keySize, uint valueSize, MapType type, BpfCommand command)
    {
        int k = Unsafe.SizeOf<TKey>(), v = Unsafe.SizeOf<TValue>();
        if (k != keySize || v != valueSize)
        {
            throw new BpfException(Errno.EINVAL, command,
                $"{typeof(TKey).Name} is {k} bytes and {typeof(TValue).Name} is {v} bytes, but the {type.ShortName()} map has key_size {keySize} and value_size {valueSize}");
        }
    }

    /// <summary>The fd in the caller's process.</summary>
    public int Fd { get; }

    /// <summary>The live map, for program-side access (<see cref="ProgramLookup"/>).</summary>
    public BpfMap Object { get; }

    private static ReadOnlySpan<byte> Bytes<T>(in T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));

    /// <summary>Looks up <paramref name="key"/>; false if it is missing (ENOENT).</summary>
    /// <exception cref="BpfException">Any error other than ENOENT.</exception>
    public bool TryLookup(in TKey key, out TValue value)
    {
        if (Object.Type.IsPerCpu())
        {
            throw new InvalidOperationException("a per-CPU map has one value per CPU: use LookupPercpu");
        }
        value = default;
        var r = _bpf.MapLookupElem(Fd, Bytes(key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)));
        return Expected(r);
    }

    /// <summary>Looks up <paramref name="key"/>.</summary>
    /// <exception cref="BpfException">ENOENT if missing, or any other error.</exception>
    public TValue Lookup(in TKey key)
    {
        if (!TryLookup(key, out var value))
        {
            throw new BpfException(Errno.ENOENT, BpfCommand.MapLookupElem, "no element with this key");
        }
        return value;
    }

    /// <summary>Updates <paramref name="key"/> (for per-CPU maps: the same value on every CPU).</summary>
    /// <exception cref="BpfException">The update failed (EEXIST, ENOENT, E2BIG, EINVAL, ...).</exception>
    public void Update(in TKey key, in TValue value, ulong flags = UpdateFlags.Any)
    {
        if (Object.Type.IsPerCpu())
        {
            Span<TValue> all = new TValue[_bpf.Cpus.Count];
            all.Fill(value);
            UpdatePercpu(key, all, flags);
            return;
        }
        _bpf.MapUpdateElem(Fd, Bytes(key), Bytes(value), flags).ThrowIfFailed();
    }

    /// <summary>Updates <paramref name="key"/>; the result says whether and why it failed.</summary>
    public BpfResult TryUpdate(in TKey key, in TValue value, ulong flags = UpdateFlags.Any) =>
        _bpf.MapUpdateElem(Fd, Bytes(key), Bytes(value), flags);

    /// <summary>Deletes <paramref name="key"/>; false if it was missing (ENOENT).</summary>
    /// <exception cref="BpfException">Any error other than ENOENT (e.g. EINVAL on arrays).</exception>
    public bool Delete(in TKey key) => Expected(_bpf.MapDeleteElem(Fd, Bytes(key)));

    /// <summary>Every CPU's value of <paramref name="key"/>, CPU 0 first; null if missing.</summary>
    public TValue[]? LookupPercpu(in TKey key)
    {
        var buffer = new byte[Object.SyscallValueSize];
        if (!Expected(_bpf.MapLookupElem(Fd, Bytes(key), buffer)))
        {
            return null;
        }
        var values = new TValue[buffer.Length / _slot];
        for (int cpu = 0; cpu < values.Length; cpu++)
        {
            values[cpu] = MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * _slot));
        }
        return values;
    }

    /// <summary>Writes every CPU's value of <paramref name="key"/> (one per possible CPU, CPU 0 first).</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> does not have one value per possible CPU.</exception>
    public void UpdatePercpu(in TKey key, ReadOnlySpan<TValue> values, ulong flags = UpdateFlags.Any)
    {
        if (values.Length != _bpf.Cpus.Count)
        {
            throw new ArgumentException($"need {_bpf.Cpus.Count} values, one per possible CPU; got {values.Length}", nameof(values));
        }
        var buffer = new byte[Object.SyscallValueSize];
        for (int cpu = 0; cpu < values.Length; cpu++)
        {
            MemoryMarshal.Write(buffer.AsSpan(cpu * _slot), in values[cpu]);
        }
        _bpf.MapUpdateElem(Fd, Bytes(key), buffer, flags).ThrowIfFailed();
    }

    /// <summary>All keys in get_next_key order.</summary>
    public List<TKey> Keys()
    {
        var keys = new List<TKey>();
        TKey next = default;
        var nextBytes = MemoryMarshal.AsBytes(new Span<TKey>(ref next));
        var r = _bpf.MapGetNextKey(Fd, default, nextBytes);
        while (Expected(r))
        {
            keys.Add(next);
            TKey current = next;
            r = _bpf.MapGetNextKey(Fd, Bytes(current), nextBytes);
        }
        return keys;
    }

    /// <summary>
    /// bpf_map_lookup_elem from a running program: a reference to the value in the map (this CPU's slot for per-CPU
    /// maps), or a null reference (check with <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>).
    /// </summary>
    public ref TValue ProgramLookup(in TKey key)
    {
        var span = Object.Lookup(Bytes(key));
        if (span.IsEmpty)
        {
            return ref Unsafe.NullRef<TValue>();
        }
        return ref MemoryMarshal.AsRef<TValue>(span);
    }

    private static bool Expected(BpfResult r)
    {
        if (r.IsOk)
        {
            return true;
        }
        if (r.Errno == Errno.ENOENT)
        {
            return false;
        }
        throw new BpfException(r);
    }

    /// <summary>Closes the fd.</summary>
    public void Dispose() => _bpf.Close(Fd);
}
