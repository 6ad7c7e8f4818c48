using System.Text.Json.Nodes;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The summary JSON of a short scenario, pinned: any change in the stack, an algorithm or the output shape shows up
/// here. The test only reads golden/summary_small.json; after an intended change, run tools/update-golden.sh and
/// review the diff of the file.
/// </summary>
[Category("Cli")]
public sealed class GoldenSummaryTests
{
    private static string Source([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    private static string GoldenPath => Path.Combine(Source(), "golden", "summary_small.json");

    /// <summary>The summary of golden/small.yaml without what differs between machines and builds (wall time, paths, version).</summary>
    /// <param name="hz">Run the scenario with this <c>hz:</c> key added; null runs it as it is.</param>
    private static string Summary(uint? hz = null)
    {
        string scenario = Path.Combine(AppContext.BaseDirectory, "golden", "small.yaml");
        if (hz is { } h)
        {
            scenario = CliRun.Scenario($"hz: {h}\n" + File.ReadAllText(scenario));
        }
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.That(BpfSimCommand.Invoke(["run", scenario, "--json"], stdout, stderr), Is.Zero, stderr.ToString());
        var actual = JsonNode.Parse(stdout.ToString())!.AsObject();
        actual.Remove("wall_s");
        actual["manifest"]!.AsObject().Remove("scenario");
        actual["manifest"]!.AsObject().Remove("consumers");
        actual["manifest"]!.AsObject().Remove("tool_version");
        return actual.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    [Test]
    public void SmallScenario_Hz1000Explicit_SameSummaryAsDefault_Hz250Differs()
    {
        // hz defaults to 1000, so saying so changes nothing; HZ 250 (4 ms jiffies) changes the run, not only the
        // summary's "hz" (left out of the comparison and checked on its own).
        static string WithoutText(string summary) =>
            string.Join('\n', summary.Split('\n').Where(l => !l.Contains("scenario_sha256", StringComparison.Ordinal) && // the file's text differs
                                                             !l.Contains("\"hz\"", StringComparison.Ordinal)));
        string byDefault = WithoutText(Summary());
        Assert.That(WithoutText(Summary(1000)), Is.EqualTo(byDefault));
        string at250 = Summary(250);
        Assert.That(WithoutText(at250), Is.Not.EqualTo(byDefault));
        Assert.That(at250, Does.Contain("\"hz\": 250"));
        Assert.That(Summary(), Does.Contain("\"hz\": 1000"));
    }

    [Test]
    public void SmallScenario_SummaryMatchesGolden()
    {
        if (!File.Exists(GoldenPath))
        {
            Assert.Fail($"{GoldenPath} is missing; tools/update-golden.sh writes it");
        }
        string[] expected = File.ReadAllText(GoldenPath).Split('\n');
        string[] actual = Summary().Split('\n');
        int line = Enumerable.Range(0, Math.Max(expected.Length, actual.Length))
            .FirstOrDefault(i => i >= expected.Length || i >= actual.Length || expected[i] != actual[i], -1);
        Assert.That(line, Is.EqualTo(-1), line < 0 ? "" :
            $"summary differs from golden/summary_small.json at line {line + 1}: expected `{expected.ElementAtOrDefault(line)?.Trim()}`, " +
            $"got `{actual.ElementAtOrDefault(line)?.Trim()}`. If the change is intended, run tools/update-golden.sh and review the diff.");
    }

    /// <summary>
    /// Not a test: how tools/update-golden.sh rewrites the golden file. Explicit, so no ordinary test run selects it,
    /// and it writes only when BPFSIM_UPDATE_GOLDEN=1 says so.
    /// </summary>
    [Test, Explicit("rewrites golden/summary_small.json; run it through tools/update-golden.sh")]
    public void UpdateGolden_RewritesTheGoldenFile()
    {
        if (Environment.GetEnvironmentVariable("BPFSIM_UPDATE_GOLDEN") != "1")
        {
            Assert.Ignore("BPFSIM_UPDATE_GOLDEN=1 is not set; nothing written");
        }
        File.WriteAllText(GoldenPath, Summary());
        TestContext.Out.WriteLine($"wrote {GoldenPath}");
    }
}
