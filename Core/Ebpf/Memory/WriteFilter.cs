namespace BpfSim.Core.Ebpf.Memory;

/// <summary>
/// The members of a struct a program may write, checked on every store to a region that has the filter. Mirrors
/// bpf_tcp_ca_btf_struct_access() in net/ipv4/bpf_tcp_ca.c: a store must start at a writable member (or inside a
/// member that allows any offset) and must not run past its end.
/// </summary>
public sealed class WriteFilter
{
    private readonly WritableField[] _fields;

    // For each byte offset, the end of the member a store starting there may write (0: none), so that the check on
    // every store is one lookup: the member Explain would find first.
    private readonly int[] _endAt;

    /// <param name="typeName">The struct's name for messages, e.g. <c>tcp_sock</c>.</param>
    /// <param name="fields">The writable members.</param>
    /// <exception cref="ArgumentOutOfRangeException">A member has a negative offset or a size below 1.</exception>
    public WriteFilter(string typeName, IEnumerable<WritableField> fields)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        ArgumentNullException.ThrowIfNull(fields);
        TypeName = typeName;
        _fields = fields.OrderBy(f => f.Offset).ToArray();
        foreach (var f in _fields)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(f.Offset, nameof(fields));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(f.Size, nameof(fields));
        }
        _endAt = new int[_fields.Length == 0 ? 0 : _fields.Max(f => f.End)];
        for (int offset = 0; offset < _endAt.Length; offset++)
        {
            foreach (var f in _fields)
            {
                if (offset == f.Offset || (f.AnyOffsetWithin && offset > f.Offset && offset < f.End))
                {
                    _endAt[offset] = f.End;
                    break;
                }
            }
        }
    }

    /// <summary>The struct's name as messages give it.</summary>
    public string TypeName { get; }

    /// <summary>The writable members, by offset.</summary>
    public IReadOnlyList<WritableField> Fields => _fields;

    /// <summary>Whether a store of <paramref name="size"/> bytes at <paramref name="offset"/> is allowed.</summary>
    public bool Allows(int offset, int size)
    {
        var endAt = _endAt;
        return (uint)offset < (uint)endAt.Length && endAt[offset] != 0 && (long)offset + size <= endAt[offset];
    }

    /// <summary>Why a store is refused, in the kernel's words, or null if it is allowed.</summary>
    public string? Explain(int offset, int size)
    {
        foreach (var f in _fields)
        {
            if (offset == f.Offset || (f.AnyOffsetWithin && offset > f.Offset && offset < f.End))
            {
                return offset + size > f.End
                    ? $"write access at off {offset} with size {size} beyond the member of {TypeName} ended at {f.End}"
                    : null;
            }
        }
        return $"no write support to {TypeName} at off {offset}";
    }
}
