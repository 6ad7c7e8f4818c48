namespace BpfSim.Core.Bpf.Consumers;

/// <summary>Consumers named by path: a .NET assembly of C# consumers, or a clang-compiled BPF object (<c>.o</c>).</summary>
public static class ConsumerFiles
{
    /// <summary>True when <paramref name="program"/> is a path rather than a consumer's name.</summary>
    public static bool IsPath(string program) =>
        program.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || ConsumerObjectLoader.IsObjectPath(program) || program.Contains('/');

    /// <summary>
    /// Adds the consumers of the file at <paramref name="path"/> to <paramref name="catalog"/> (once: a file already
    /// loaded gives the consumers it added). One file at a time per catalog, so runs on several threads that name the
    /// same file do not both add it.
    /// </summary>
    /// <exception cref="ConsumerLoadException">The file cannot be read or holds no consumer.</exception>
    public static IReadOnlyList<ConsumerInfo> LoadInto(ConsumerCatalog catalog, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        lock (catalog)
        {
            return ConsumerObjectLoader.IsObjectPath(path) ? ConsumerObjectLoader.LoadInto(catalog, path) : ConsumerAssemblyLoader.LoadInto(catalog, path);
        }
    }
}
