using System.Text.Json.Nodes;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The summary JSON of a short scenario, pinned: any change in the stack, an algorithm or the output shape shows up
/// here. After an intended change, rerun with BPFSIM_UPDATE_GOLDEN=1 and review the diff of golden/summary_small.json.
/// </summary>
[Category("Cli")]
public sealed class GoldenSummaryTests
{
    private static string Source([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    [Test]
    public void SmallScenario_SummaryMatchesGolden()
    {
        string scenario = Path.Combine(AppContext.BaseDirectory, "golden", "small.yaml");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.That(BpfSimCommand.Invoke(["run", scenario, "--json"], stdout, stderr), Is.Zero, stderr.ToString());
        var actual = JsonNode.Parse(stdout.ToString())!.AsObject();
        actual.Remove("wall_s");
        actual["manifest"]!.AsObject().Remove("scenario");
        actual["manifest"]!.AsObject().Remove("consumers");
        actual["manifest"]!.AsObject().Remove("tool_version");
        string text = actual.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        string golden = Path.Combine(Source(), "golden", "summary_small.json");
        if (Environment.GetEnvironmentVariable("BPFSIM_UPDATE_GOLDEN") == "1" || !File.Exists(golden))
        {
            File.WriteAllText(golden, text);
            Assert.Ignore($"golden file written: {golden}");
        }
        Assert.That(text, Is.EqualTo(File.ReadAllText(golden)), "summary differs from golden/summary_small.json");
    }
}
