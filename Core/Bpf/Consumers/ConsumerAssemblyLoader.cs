using System.Reflection;
using System.Runtime.Loader;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Loads consumer assemblies named by path (a scenario's <c>program: path/to/MyCc.dll</c>) into their own
/// AssemblyLoadContext. bpfsim's own assemblies resolve to the ones already loaded, so the consumer's base classes
/// and attributes are the runtime's; the consumer's other dependencies load from its folder.
/// </summary>
public static class ConsumerAssemblyLoader
{
    private sealed class ConsumerLoadContext(string path) : AssemblyLoadContext($"consumer:{Path.GetFileName(path)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name is { } n && (n.StartsWith("BpfSim.", StringComparison.Ordinal) || n == "bpfsim"))
            {
                return null; // fall back to the default context: share bpfsim's types
            }
            var resolved = _resolver.ResolveAssemblyToPath(name);
            return resolved is null ? null : LoadFromAssemblyPath(resolved);
        }
    }

    private static readonly Dictionary<string, Assembly> s_loaded = new(StringComparer.Ordinal);

    /// <summary>Loads the assembly at <paramref name="path"/> (once per full path) and adds its consumers to <paramref name="catalog"/>.</summary>
    /// <exception cref="ConsumerLoadException">The file is missing, is not a .NET assembly, or holds no consumer.</exception>
    public static IReadOnlyList<ConsumerInfo> LoadInto(ConsumerCatalog catalog, string path)
    {
        string full = CheckPath(path);
        Assembly assembly;
        lock (s_loaded)
        {
            if (!s_loaded.TryGetValue(full, out assembly!))
            {
                try
                {
                    assembly = new ConsumerLoadContext(full).LoadFromAssemblyPath(full);
                }
                catch (BadImageFormatException e)
                {
                    throw new ConsumerLoadException($"{path}: not a .NET assembly ({OneLine(e.Message)})", e);
                }
                catch (FileLoadException e)
                {
                    throw new ConsumerLoadException($"{path}: cannot be loaded ({OneLine(e.Message)})", e);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    throw new ConsumerLoadException($"{path}: cannot be read ({OneLine(e.Message)})", e);
                }
                catch (InvalidOperationException e)
                {
                    // AssemblyDependencyResolver's constructor: the .deps.json beside the assembly is malformed.
                    throw new ConsumerLoadException($"{path}: its dependencies cannot be resolved ({OneLine(e.Message)}); check {Path.ChangeExtension(path, ".deps.json")}", e);
                }
                s_loaded[full] = assembly;
            }
        }
        IReadOnlyList<ConsumerInfo> found;
        try
        {
            var existing = catalog.All.Where(c => c.Source == full).ToList();
            found = existing.Count > 0 ? existing : catalog.AddFrom(assembly, full);
        }
        catch (ReflectionTypeLoadException e)
        {
            throw new ConsumerLoadException($"{path}: its types cannot be loaded ({OneLine(e.LoaderExceptions.FirstOrDefault()?.Message ?? "")}); " +
                                            "was it built against this version of bpfsim?", e);
        }
        catch (ArgumentException e)
        {
            throw new ConsumerLoadException($"{path}: {OneLine(e.Message)}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ConsumerLoadException($"{path}: {OneLine(e.Message)}", e);
        }
        catch (Exception e) when (e is TypeLoadException or IOException or BadImageFormatException or CustomAttributeFormatException
                                      or TargetInvocationException or NotSupportedException)
        {
            // Reading the attributes runs the consumer's code and loads its dependencies: any of it can fail.
            throw new ConsumerLoadException($"{path}: its consumers cannot be read ({OneLine(e.Message)})", e);
        }
        if (found.Count == 0)
        {
            throw new ConsumerLoadException($"{path}: no class marked [StructOps] or [XdpProgram] (see docs/consumers.md)");
        }
        return found;
    }

    /// <summary>The runtime's messages (the dependency resolver's, for one) span lines; an error is one line.</summary>
    private static string OneLine(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// The full path of an existing regular file, following symlinks; a dangling symlink, a symlink loop or a
    /// directory is reported here instead of as an I/O exception from the loader.
    /// </summary>
    private static string CheckPath(string path)
    {
        try
        {
            string full = Path.GetFullPath(path);
            var info = new FileInfo(full);
            if (info.LinkTarget is not null)
            {
                // Throws IOException on a loop; null target = dangling.
                if (info.ResolveLinkTarget(returnFinalTarget: true) is not { Exists: true })
                {
                    throw new ConsumerLoadException($"{path}: a symbolic link to a file that does not exist");
                }
            }
            else if (Directory.Exists(full))
            {
                throw new ConsumerLoadException($"{path}: a directory, not a consumer assembly");
            }
            else if (!info.Exists)
            {
                throw new ConsumerLoadException($"{path}: no such file");
            }
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConsumerLoadException($"{path}: cannot be opened ({OneLine(e.Message)})", e);
        }
    }
}
