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
    public static BpfResult Load(BpfSystem bpf, ConsumerInfo info, out LoadedStructOps? loaded)
    {
        loaded = null;
        if (info.Object is not { } spec)
        {
            return StructOpsLoader.Load(bpf, ConsumerCatalog.Create(info), out loaded);
        }
        var r = LoadObject(bpf, info, out var obj);
        if (!r.IsOk)
        {
            return r;
        }
        var variable = spec.StructOps.First(v => v.Name == info.Name);
        return StructOpsObjectLoader.Load(bpf, obj!, variable, out loaded);
    }

    /// <summary>The object of <paramref name="info"/> loaded in <paramref name="bpf"/> (loading it on first use).</summary>
    public static BpfResult LoadObject(BpfSystem bpf, ConsumerInfo info, out LoadedObject? obj)
    {
        obj = null;
        var objects = s_objects.GetOrCreateValue(bpf);
        lock (objects)
        {
            if (objects.TryGetValue(info.Source, out obj))
            {
                return BpfResult.Ok;
            }
            // Maps and global data only: each variable's programs load with its consumer, as libbpf loads only the
            // programs of the struct_ops maps it creates (a scenario's map: picks one).
            var r = ObjectLoader.Load(bpf, info.Object!, info.Source, out obj, autocreate: []);
            if (r.IsOk)
            {
                objects[info.Source] = obj!;
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
