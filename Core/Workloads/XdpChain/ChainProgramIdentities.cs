namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// Which component version each loaded program id is, for the packet observer (an array indexed by id, so the
/// packet path looks up without hashing) and for clients resolving another component's program by its name.
/// </summary>
internal sealed class ChainProgramIdentities
{
    private int[] _byId = new int[64]; // component * 64 + version + 1; 0 = not a component's program
    private readonly Dictionary<string, (int Component, int Version)> _byName = new(StringComparer.Ordinal);

    public ChainProgramIdentities(IReadOnlyList<ChainComponentSpec> components)
    {
        for (int c = 0; c < components.Count; c++)
        {
            for (int v = 0; v < components[c].Versions.Count; v++)
            {
                _byName[components[c].ProgramName(v)] = (c, v);
            }
        }
    }

    /// <summary>Records that program <paramref name="id"/> is <paramref name="component"/>'s <paramref name="version"/>.</summary>
    public void Register(uint id, int component, int version)
    {
        if (id >= _byId.Length)
        {
            Array.Resize(ref _byId, (int)Math.Max(id + 1, (uint)_byId.Length * 2));
        }
        _byId[id] = component * 64 + version + 1;
    }

    /// <summary>The component version of program <paramref name="id"/>, on the packet path.</summary>
    public bool TryGet(uint id, out SeenProgram seen)
    {
        int code = id < _byId.Length ? _byId[id] : 0;
        seen = code == 0 ? default : new SeenProgram((code - 1) / 64, (code - 1) % 64);
        return code != 0;
    }

    /// <summary>The component version a program name belongs to (what a component knows of the others' names).</summary>
    public bool TryGetByName(string name, out int component, out int version)
    {
        bool found = _byName.TryGetValue(name, out var cv);
        (component, version) = cv;
        return found;
    }
}
