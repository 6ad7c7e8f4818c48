namespace BpfSim.Bench.Ebpf;

/// <summary>The committed clang-built consumers (Programs/bpf/obj), found from the working directory or the binary's.</summary>
public static class BpfObjectFiles
{
    /// <summary>Programs/bpf/obj/NAME.bpf.o in the checkout.</summary>
    /// <exception cref="FileNotFoundException">No Programs/bpf/obj above the working directory or the binary.</exception>
    public static string PathOf(string name)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "Programs", "bpf", "obj", name + ".bpf.o");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new FileNotFoundException($"Programs/bpf/obj/{name}.bpf.o not found above {Directory.GetCurrentDirectory()}");
    }
}
