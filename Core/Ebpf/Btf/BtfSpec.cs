namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// A set of BTF types indexed by id (id 0 is void), as a .BTF section holds them or as bpfsim describes its kernel.
/// Lookups by name keep id order, so every query is deterministic.
/// </summary>
public sealed class BtfSpec
{
    private readonly BtfType[] _types;
    private readonly Dictionary<string, List<uint>> _byName = new(StringComparer.Ordinal);

    /// <param name="types">The types of ids 1, 2, ... in order.</param>
    public BtfSpec(IEnumerable<BtfType> types)
    {
        _types = [BtfVoid.Instance, .. types];
        for (uint id = 1; id < _types.Length; id++)
        {
            string name = _types[id].Name;
            if (name.Length == 0)
            {
                continue;
            }
            if (!_byName.TryGetValue(name, out var ids))
            {
                _byName[name] = ids = [];
            }
            ids.Add(id);
        }
    }

    /// <summary>The number of ids, void included.</summary>
    public int Count => _types.Length;

    /// <summary>The type with id <paramref name="id"/>.</summary>
    /// <exception cref="BtfException">No such id.</exception>
    public BtfType this[uint id] => id < _types.Length ? _types[id] : throw new BtfException($"type id {id} is out of range (the BTF has {_types.Length - 1} types)");

    /// <summary>Every (id, type) pair in id order, void excluded.</summary>
    public IEnumerable<(uint Id, BtfType Type)> All()
    {
        for (uint id = 1; id < _types.Length; id++)
        {
            yield return (id, _types[id]);
        }
    }

    /// <summary>The ids of the types named <paramref name="name"/>, in id order.</summary>
    public IReadOnlyList<uint> FindByName(string name) => _byName.TryGetValue(name, out var ids) ? ids : [];

    /// <summary>The first type named <paramref name="name"/> of kind <paramref name="kind"/>, or null.</summary>
    public uint? Find(string name, BtfKind kind)
    {
        foreach (uint id in FindByName(name))
        {
            if (_types[id].Kind == kind)
            {
                return id;
            }
        }
        return null;
    }

    /// <summary>Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the type they name.</summary>
    public uint SkipModifiers(uint id)
    {
        for (int guard = 0; guard < _types.Length; guard++)
        {
            if (this[id] is not BtfAlias alias)
            {
                return id;
            }
            id = alias.Type;
        }
        throw new BtfException($"type id {id}: a loop of typedefs or qualifiers");
    }

    /// <summary>The size in bytes of type <paramref name="id"/> (8 for a pointer), as the kernel's btf_resolve_size computes it.</summary>
    /// <exception cref="BtfException">The type has no size (void, a function, a forward declaration).</exception>
    public ulong SizeOf(uint id)
    {
        ulong multiplier = 1;
        for (int guard = 0; guard < _types.Length; guard++)
        {
            switch (this[SkipModifiers(id)])
            {
                case BtfInt t:
                    return Scale(multiplier, t.Size, id);
                case BtfPtr:
                    return Scale(multiplier, 8, id);
                case BtfComposite t:
                    return Scale(multiplier, t.Size, id);
                case BtfEnum t:
                    return Scale(multiplier, t.Size, id);
                case BtfFloat t:
                    return Scale(multiplier, t.Size, id);
                case BtfDatasec t:
                    return Scale(multiplier, t.Size, id);
                case BtfArray a:
                    // Counts come from untrusted BTF: a product that does not fit is an error, not a wrapped size.
                    if (a.Count != 0 && multiplier > ulong.MaxValue / a.Count)
                    {
                        throw new BtfException($"type id {id}: the array's size does not fit in 64 bits");
                    }
                    multiplier *= a.Count;
                    id = a.ElementType;
                    continue;
                case var t:
                    throw new BtfException($"type id {id} ({t.Kind}) has no size");
            }
        }
        throw new BtfException($"type id {id}: arrays nested in a loop");
    }

    private static ulong Scale(ulong multiplier, uint size, uint id) =>
        size == 0 || multiplier <= ulong.MaxValue / size ? multiplier * size : throw new BtfException($"type id {id}: the array's size does not fit in 64 bits");
}
