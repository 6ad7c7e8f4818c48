using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// The Mahimahi traces shipped in scenarios/traces are exactly what <see cref="DeliveryTraceGenerator"/> makes from the
/// arguments below (tools/gen-traces.sh writes them), and each has the rate it is named for.
/// </summary>
[Category("Tcp")]
public sealed class ShippedTraceTests
{
    private const long Mbps = 1_000_000;

    /// <summary>Every shipped trace: its file name, how it is made, and its mean rate (Mbit/s) over one period.</summary>
    private static readonly (string File, Func<string, DeliveryTrace> Make, double MeanMbps)[] s_traces =
    [
        ("constant-12mbps.down", f => DeliveryTraceGenerator.Constant(12 * Mbps, 1_000, f), 12),
        ("step-24-6mbps.down", f => DeliveryTraceGenerator.Steps([(10_000, 24 * Mbps), (20_000, 6 * Mbps)], f), 15),
        ("onoff-24mbps.down", f => DeliveryTraceGenerator.Steps([(2_000, 24 * Mbps), (3_000, 0)], f), 16),
        ("cell.down", f => DeliveryTraceGenerator.MarkovModulated(1, "cell.down", [1 * Mbps, 3 * Mbps, 6 * Mbps, 12 * Mbps, 18 * Mbps, 24 * Mbps, 36 * Mbps],
            200, 0.25, 30_000, f), double.NaN),
        ("cell.up", f => DeliveryTraceGenerator.MarkovModulated(1, "cell.up", [Mbps / 2, 1 * Mbps, 2 * Mbps, 4 * Mbps, 6 * Mbps],
            200, 0.25, 30_000, f), double.NaN),
    ];

    private static IEnumerable<string> Files() => s_traces.Select(t => t.File);

    private static string Folder([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../../../scenarios/traces"));

    [TestCaseSource(nameof(Files))]
    public void ShippedTrace_IsWhatTheGeneratorMakes(string file)
    {
        var (_, make, mean) = s_traces.Single(t => t.File == file);
        var trace = make("traces/" + file);
        string path = Path.Combine(Folder(), file);
        Assert.That(File.Exists(path), Is.True, $"{path} is missing: run tools/gen-traces.sh");
        Assert.That(File.ReadAllText(path), Is.EqualTo(trace.ToText()), "the file is not what the generator makes: run tools/gen-traces.sh");
        // It reads back as mm-link would read it.
        var read = DeliveryTrace.Parse(File.ReadAllText(path), file);
        Assert.That(read.Count, Is.EqualTo(trace.Count));
        if (!double.IsNaN(mean))
        {
            // One extra opportunity closes a period that ends with nothing to deliver (the period is the last value).
            Assert.That(trace.MeanRateBps / 1e6, Is.EqualTo(mean).Within(0.02));
        }
    }

    [Test]
    public void CellularTraces_WanderBetweenTheirStates_WithTheUplinkSlower()
    {
        var down = DeliveryTrace.Parse(File.ReadAllText(Path.Combine(Folder(), "cell.down")), "cell.down");
        var up = DeliveryTrace.Parse(File.ReadAllText(Path.Combine(Folder(), "cell.up")), "cell.up");
        Assert.That(down.PeriodMs, Is.EqualTo(30_000));
        Assert.That(up.MeanRateBps, Is.LessThan(down.MeanRateBps / 3));
        // Rates per second of the downlink: they vary (not a constant link) and stay within the states' range.
        var perSecond = Enumerable.Range(0, 30).Select(s => down.OpportunitiesBetween(s * 1000, (s + 1) * 1000) * 12_000 / 1e6).ToList();
        Assert.That(perSecond.Max() - perSecond.Min(), Is.GreaterThan(6), string.Join(", ", perSecond));
        Assert.That(perSecond, Is.All.InRange(0.5, 40));
    }

    /// <summary>
    /// Not a test: how tools/gen-traces.sh writes scenarios/traces. Explicit, so no ordinary run selects it, and it
    /// writes only when BPFSIM_WRITE_TRACES=1 says so.
    /// </summary>
    [Test, Explicit("writes scenarios/traces; run it through tools/gen-traces.sh")]
    public void WriteTraces_WritesTheShippedTraces()
    {
        if (Environment.GetEnvironmentVariable("BPFSIM_WRITE_TRACES") != "1")
        {
            Assert.Ignore("BPFSIM_WRITE_TRACES=1 is not set; nothing written");
        }
        foreach (var (file, make, _) in s_traces)
        {
            File.WriteAllText(Path.Combine(Folder(), file), make("traces/" + file).ToText());
            TestContext.Out.WriteLine($"wrote {file}");
        }
    }
}
