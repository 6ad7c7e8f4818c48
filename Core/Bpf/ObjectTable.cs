namespace BpfSim.Core.Bpf;

/// <summary>
/// Ids of live objects, one id space per kind. Ids are allocated cyclically from 1 (idr_alloc_cyclic(1, INT_MAX)
/// in kernel/bpf/syscall.c), so a freed id is not reused until the space wraps.
/// </summary>
public sealed class ObjectTable
{
    private readonly SortedDictionary<uint, BpfObject>[] _byId =
    [
        new SortedDictionary<uint, BpfObject>(),
        new SortedDictionary<uint, BpfObject>(),
        new SortedDictionary<uint, BpfObject>(),
    ];
    private readonly uint[] _next = [1, 1, 1];

    internal uint Allocate(BpfObject obj)
    {
        int k = (int)obj.Kind;
        var table = _byId[k];
        uint id = _next[k];
        while (table.ContainsKey(id))
        {
            id = NextAfter(id);
        }
        _next[k] = NextAfter(id);
        table.Add(id, obj);
        return id;
    }

    /// <summary>The id after <paramref name="id"/>: ids are in [1, INT_MAX), idr_alloc_cyclic's end being exclusive.</summary>
    internal static uint NextAfter(uint id) => id + 1 >= int.MaxValue ? 1 : id + 1;

    internal void Release(BpfObject obj) => _byId[(int)obj.Kind].Remove(obj.Id);

    /// <summary>The live object of <paramref name="kind"/> with <paramref name="id"/>, if any.</summary>
    public bool TryGet(BpfObjectKind kind, uint id, out BpfObject obj) => _byId[(int)kind].TryGetValue(id, out obj!);

    /// <summary>Live objects of <paramref name="kind"/>, in id order.</summary>
    public IEnumerable<BpfObject> All(BpfObjectKind kind) => _byId[(int)kind].Values;

    /// <summary>How many objects of <paramref name="kind"/> are alive (have an id).</summary>
    public int Count(BpfObjectKind kind) => _byId[(int)kind].Count;
}
