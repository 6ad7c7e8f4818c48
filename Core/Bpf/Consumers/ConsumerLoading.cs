using System.Runtime.CompilerServices;
using BpfSim.Core.Ebpf.Loading;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Loads any consumer into a simulated kernel, ready to register: a C# class through <see cref="StructOpsLoader"/>, a
/// BPF object's struct_ops variable through <see cref="ObjectLoader"/> and <see cref="StructOpsObjectLoader"/>. An
/// object is loaded once per kernel, so every variable of it shares its maps and global data, as with libbpf; a
/// variable's programs are loaded when it is, so a variable that is never loaded cannot refuse another.
/// </summary>
public static class ConsumerLoading
{
    private static readonly ConditionalWeakTable<BpfSystem, Dictionary<string, LoadedObject>> s_objects = new();

    /// <exception cref="ConsumerLoadException">A C# consumer's constructor threw.</exception>
    public static BpfResult Load(BpfSystem bpf, ConsumerInfo info, out LoadedStructOps? loaded) => Load(bpf, info, [], out loaded);

    /// <summary>
    /// Loads <paramref name="info"/> with <paramref name="globals"/> set first (<see cref="ConsumerGlobals"/>): a C#
    /// consumer's options after construction, an object's global variables before its maps are created.
    /// </summary>
    /// <returns>EINVAL naming the first setting that does not apply (<see cref="ConsumerGlobals.Check"/> gives all, with locations).</returns>
    /// <exception cref="ConsumerLoadException">A C# consumer's constructor threw.</exception>
    public static BpfResult Load(BpfSystem bpf, ConsumerInfo info, IReadOnlyList<ConsumerGlobal> globals, out LoadedStructOps? loaded)
    {
        ArgumentNullException.ThrowIfNull(globals);
        loaded = null;
        if (info.Object is not { } spec)
        {
            var consumer = ConsumerCatalog.Create(info);
            if (ConsumerGlobals.Apply(consumer, globals) is [var first, ..])
            {
                return BpfResult.Fail(Errno.EINVAL, first.ToString()).For(BpfCommand.ProgLoad);
            }
            return StructOpsLoader.Load(bpf, consumer, out loaded);
        }
        var r = LoadObject(bpf, info, globals, out var obj);
        if (!r.IsOk)
        {
            return r;
        }
        var variable = spec.StructOps.First(v => v.Name == info.Name);
        return StructOpsObjectLoader.Load(bpf, obj!, variable, out loaded);
    }

    /// <summary>The object of <paramref name="info"/> loaded in <paramref name="bpf"/> (loading it on first use).</summary>
    public static BpfResult LoadObject(BpfSystem bpf, ConsumerInfo info, out LoadedObject? obj) => LoadObject(bpf, info, [], out obj);

    /// <summary>
    /// The object of <paramref name="info"/> with <paramref name="globals"/> set, loaded in <paramref name="bpf"/> on
    /// first use. Entries that set the same globals (or none) share one loaded object, as the variables of one libbpf
    /// skeleton do; other settings are another open of the file, with maps of its own.
    /// </summary>
    /// <returns>EINVAL naming the first setting that does not apply; the loader's errors.</returns>
    public static BpfResult LoadObject(BpfSystem bpf, ConsumerInfo info, IReadOnlyList<ConsumerGlobal> globals, out LoadedObject? obj)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(globals);
        obj = null;
        var spec = ConsumerGlobals.Apply(info.Object!, globals, out var errors);
        if (errors is [var first, ..])
        {
            return BpfResult.Fail(Errno.EINVAL, first.ToString()).For(BpfCommand.MapCreate);
        }
        // Then what the type's user-space loader does before load (after the user's settings, as SCX_OPS_LOAD does).
        spec = bpf.FindStructOpsType(info.StructOpsType)?.Bytecode?.PrepareObject(spec) ?? spec;
        string key = info.Source + string.Concat(globals.OrderBy(g => g.Name, StringComparer.Ordinal).Select(g => $"\0{g.Name}={g.Value}"));
        var objects = s_objects.GetOrCreateValue(bpf);
        lock (objects)
        {
            if (objects.TryGetValue(key, out obj))
            {
                return BpfResult.Ok;
            }
            // Maps and global data only: each variable's programs load with its consumer, as libbpf loads only the
            // programs of the struct_ops maps it creates (a scenario's map: picks one).
            var r = ObjectLoader.Load(bpf, spec, info.Source, out obj, autocreate: []);
            if (r.IsOk)
            {
                objects[key] = obj!;
            }
            return r;
        }
    }

    /// <summary>The objects loaded into <paramref name="bpf"/> so far, in load order.</summary>
    public static IReadOnlyList<LoadedObject> Objects(BpfSystem bpf)
    {
        var objects = s_objects.GetOrCreateValue(bpf);
        lock (objects)
        {
            return objects.Values.ToList();
        }
    }
}
