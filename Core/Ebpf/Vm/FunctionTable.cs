namespace BpfSim.Core.Ebpf.Vm;

/// <summary>
/// Helpers by id (BPF_FUNC_*, the imm of a call with src 0) or kfuncs by the index the loader gave them (the imm of
/// a call with src BPF_PSEUDO_KFUNC_CALL). Looked up by array index on every call.
/// </summary>
public sealed class FunctionTable
{
    /// <summary>The largest id a table takes (helper ids stop near 212; kfunc indices are dense from 0).</summary>
    public const int MaxId = 0xffff;

    private BpfFunction?[] _functions = new BpfFunction?[16];
    private string?[] _names = new string?[16];

    /// <summary>The number of functions in the table.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a function under an id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">id is negative or above <see cref="MaxId"/>.</exception>
    /// <exception cref="ArgumentException">The id is taken.</exception>
    public void Add(int id, string name, BpfFunction function)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id, MaxId);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(function);
        if (id >= _functions.Length)
        {
            int size = Math.Max(id + 1, _functions.Length * 2);
            Array.Resize(ref _functions, size);
            Array.Resize(ref _names, size);
        }
        if (_functions[id] is not null)
        {
            throw new ArgumentException($"id {id} is taken by {_names[id]}", nameof(id));
        }
        _functions[id] = function;
        _names[id] = name;
        Count++;
    }

    /// <summary>The function under an id.</summary>
    /// <returns>false if there is none.</returns>
    public bool TryGet(int id, out BpfFunction function)
    {
        var functions = _functions;
        if ((uint)id < (uint)functions.Length && functions[id] is { } f)
        {
            function = f;
            return true;
        }
        function = null!;
        return false;
    }

    /// <summary>The name a function was added with, or null.</summary>
    public string? NameOf(int id) => (uint)id < (uint)_names.Length ? _names[id] : null;
}
