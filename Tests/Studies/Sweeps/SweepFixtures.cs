using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Studies;

namespace BpfSim.Tests.Studies.Sweeps;

/// <summary>Small sweeps for the tests: a base scenario of three short flows and sweep files beside it, in a fresh folder.</summary>
internal static class SweepFixtures
{
    /// <summary>Three flows in two groups (one flow-style entry, one block-style), 1 s: a run takes a fraction of a second.</summary>
    public const string Base = """
        # a small dumbbell for the sweep tests
        seed: 1
        duration: 1s
        network:
          topology: dumbbell
          bottleneck:
            rate: 20Mbps
            delay: 5ms
            queue: { type: droptail, limit: 50 }
          access: { rate: 100Mbps, delay: 1ms }
        flows:
          - { count: 1, cc: cubic, start: 0s }
          - count: 2
            cc: reno
            start: 0.1s
        """;

    private static readonly Lazy<(BpfSimFactory Factory, ConsumerCatalog Catalog)> s_composition = new(() => Composition.Create([]));

    public static BpfSimFactory Factory => s_composition.Value.Factory;

    public static ConsumerCatalog Catalog => s_composition.Value.Catalog;

    /// <summary>A fresh folder holding base.yaml (<paramref name="baseText"/>) and sweep.yaml (<paramref name="sweep"/>); returns the sweep's path.</summary>
    public static string Write(string sweep, string baseText = Base)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-sweep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "base.yaml"), baseText);
        string path = Path.Combine(dir, "sweep.yaml");
        File.WriteAllText(path, sweep);
        return path;
    }

    /// <summary>A fresh, not yet existing output folder.</summary>
    public static string OutDir() => Path.Combine(Path.GetTempPath(), $"bpfsim-sweep-out-{Guid.NewGuid():N}");
}
