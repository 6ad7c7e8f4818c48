namespace BpfSim.Studies.Scenarios;

/// <summary>
/// bpfsim's own XDP objects (Programs/bpf's <c>xdp_*.bpf.c</c>, shipped as <c>bpf/xdp_*.bpf.o</c> beside the
/// command): what an <c>xdp:</c> entry's <c>program:</c> may name without a path, and what <c>bpfsim list</c> shows.
/// </summary>
public static class BuiltinXdpObjects
{
    /// <summary>The folder the shipped objects are in.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "bpf");

    /// <summary>The objects' names (the file name without <c>.bpf.o</c>), in ordinal order.</summary>
    public static IReadOnlyList<string> Names() => Directory.Exists(Folder)
        ? Directory.GetFiles(Folder, "xdp_*.bpf.o").Select(f => Path.GetFileName(f)[..^".bpf.o".Length]).Order(StringComparer.Ordinal).ToList()
        : [];

    /// <summary>The file of the object called <paramref name="name"/> (it may not exist).</summary>
    public static string PathOf(string name) => Path.Combine(Folder, name + ".bpf.o");
}
