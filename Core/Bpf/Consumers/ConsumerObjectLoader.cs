using System.Text;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Reads a clang-compiled BPF object named by path (a scenario's <c>program: path/to/cc.bpf.o</c>) and adds each of its
/// struct_ops variables to the catalog as a consumer named after the variable (libbpf names the map so). The
/// algorithm name is the variable's <c>name</c> member, when the type has one.
/// </summary>
public static class ConsumerObjectLoader
{
    /// <summary>True for a path that names a BPF object rather than an assembly.</summary>
    public static bool IsObjectPath(string path) => path.EndsWith(".o", StringComparison.OrdinalIgnoreCase);

    /// <exception cref="ConsumerLoadException">The file is missing, unreadable, malformed, or has no struct_ops variable.</exception>
    public static IReadOnlyList<ConsumerInfo> LoadInto(ConsumerCatalog catalog, string path)
    {
        string full;
        ObjectSpec spec;
        try
        {
            full = Path.GetFullPath(path);
            var existing = catalog.All.Where(c => c.Source == full).ToList();
            if (existing.Count > 0)
            {
                return existing;
            }
            if (Directory.Exists(full))
            {
                throw new ConsumerLoadException($"{path}: is a directory, not a BPF object");
            }
            if (!File.Exists(full))
            {
                throw new ConsumerLoadException($"{path}: no such file");
            }
            spec = ObjectReader.Read(full);
        }
        catch (Exception e) when (e is ObjectFormatException or BtfException)
        {
            throw new ConsumerLoadException($"{path}: not a BPF object bpfsim can read: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConsumerLoadException($"{path}: cannot be opened ({e.Message})", e);
        }
        if (spec.StructOps.Count == 0)
        {
            throw new ConsumerLoadException($"{path}: has no struct_ops variable (SEC(\".struct_ops\") or SEC(\".struct_ops.link\"))");
        }
        var found = new List<ConsumerInfo>();
        foreach (var variable in spec.StructOps)
        {
            var info = new ConsumerInfo(variable.Name, variable.TypeName, null, full,
                $"{variable.TypeName} from {Path.GetFileName(full)}{(variable.IsLink ? " (link)" : "")}", variable.IsLink, AlgorithmName(spec, variable))
            {
                Object = spec,
            };
            try
            {
                found.Add(catalog.Add(info));
            }
            catch (InvalidOperationException e)
            {
                throw new ConsumerLoadException($"{path}: {e.Message}", e);
            }
        }
        return found;
    }

    /// <summary>The variable's <c>name</c> member (a char array), read through the object's BTF layout.</summary>
    private static string AlgorithmName(ObjectSpec spec, ObjectStructOps variable)
    {
        try
        {
            return NameMember(spec, variable) ?? variable.Name;
        }
        catch (BtfException)
        {
            return variable.Name; // a broken name member: loading the variable reports it
        }
    }

    private static string? NameMember(ObjectSpec spec, ObjectStructOps variable)
    {
        if (spec.Btf[spec.Btf.SkipModifiers(variable.TypeId)] is BtfComposite type &&
            type.Members.FirstOrDefault(m => m.Name == "name") is { } member)
        {
            int offset = (int)(member.BitOffset / 8);
            if (offset > variable.Data.Length)
            {
                return null; // past the variable's data: loading the variable reports the broken layout
            }
            int size = (int)Math.Min(spec.Btf.SizeOf(member.Type), (ulong)Math.Max(0, variable.Data.Length - offset));
            var bytes = variable.Data.AsSpan().Slice(offset, size);
            int nul = bytes.IndexOf((byte)0);
            return Encoding.ASCII.GetString(nul < 0 ? bytes : bytes[..nul]);
        }
        return null;
    }
}
