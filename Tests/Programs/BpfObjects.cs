using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Tests.Programs;

/// <summary>bpfsim's own BPF consumers: the sources and committed objects under Programs/bpf, found from the test binary.</summary>
internal static class BpfObjects
{
    /// <summary>Every object build.sh makes, without the .bpf.o suffix.</summary>
    public static readonly string[] Names =
    [
        "bpf_cubic", "bpf_cubic.v3", "bpf_dctcp", "bpf_reno", "bpf_reno_link_v1", "bpf_reno_link_v2", "scx_simple", "scx_simple.v3",
        "xdp_src_counter",
    ];

    /// <summary>Programs/bpf in the checkout.</summary>
    public static string SourceFolder { get; } = FindFolder();

    /// <summary>The committed object (Programs/bpf/obj/NAME.bpf.o).</summary>
    public static string PathOf(string name) => Path.Combine(SourceFolder, "obj", name + ".bpf.o");

    public static ObjectSpec Read(string name) => ObjectReader.Read(PathOf(name));

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "Programs", "bpf");
            if (File.Exists(Path.Combine(candidate, "build.sh")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("Programs/bpf not found above the test directory");
    }
}
