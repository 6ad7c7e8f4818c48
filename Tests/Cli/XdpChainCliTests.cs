using System.Text.Json;

namespace BpfSim.Tests.Cli;

/// <summary><c>bpfsim experiment xdp-chain</c>: the acceptance JSON, the report, and bad input.</summary>
[Category("XdpChain")]
public sealed class XdpChainCliTests
{
    [Test]
    public void Json_HasEveryDesignWithTheAcceptanceKeys()
    {
        var (code, stdout, stderr) = CliRun.Invoke("experiment", "xdp-chain", "--json");
        Assert.That(code, Is.Zero, stderr);
        var designs = JsonDocument.Parse(stdout).RootElement.GetProperty("designs").EnumerateArray().ToArray();
        Assert.That(designs.Select(d => d.GetProperty("design").GetString()), Is.EqualTo(new[] { "chain_call_map", "libxdp", "mprog" }));
        foreach (var d in designs)
        {
            foreach (string key in (string[])["packets", "violations", "ns_per_packet", "updates", "update_ms_mean", "retries"])
            {
                Assert.That(d.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number, $"{key} in {d}");
            }
        }
        Assert.That(designs[0].GetProperty("violations").GetInt64(), Is.GreaterThan(0), "the A/B scenario breaks the chain-call map");
        Assert.That(designs[1].GetProperty("violations").GetInt64() + designs[2].GetProperty("violations").GetInt64(), Is.Zero);
    }

    [Test]
    public void Table_NamesTheDesignsAndTheSeed()
    {
        var (code, stdout, _) = CliRun.Invoke("experiment", "xdp-chain", "--seed", "4", "--design", "mprog");
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("seed 4").And.Contain("mprog").And.Not.Contain("libxdp"));
    }

    [Test]
    public void Out_WritesTheHtmlReportAndJson()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}");
        var (code, _, stderr) = CliRun.Invoke("experiment", "xdp-chain", "--quiet", "--design", "libxdp", "--out", dir);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.ReadAllText(Path.Combine(dir, "xdp-chain.html")), Does.Contain("Violations over time").And.Contain("Update latency"));
        Assert.That(File.Exists(Path.Combine(dir, "xdp-chain.json")));
    }

    [Test]
    public void BadScenario_IsFileLineColumnAndExit2()
    {
        string path = CliRun.Scenario("components:\n  - name: A\n    versions: [ { name: v1 } ]\n    timeline:\n      - { at: 1ms, action: jump }\n");
        var (code, _, stderr) = CliRun.Invoke("experiment", "xdp-chain", path);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("scenario.yaml:5:").And.Contain("start, replace or stop"));
        Assert.That(CliRun.AllLinesAreErrors(stderr), stderr);
    }

    [Test]
    public void ADirectory_IsSaidToBeOne_NotMissing()
    {
        string dir = Directory.CreateTempSubdirectory("bpfsim-xdpchain-dir-").FullName;
        try
        {
            var (code, _, stderr) = CliRun.Invoke("experiment", "xdp-chain", dir);
            Assert.That(code, Is.EqualTo(2));
            Assert.That(stderr, Is.EqualTo($"bpfsim: {dir}: is a directory, not a scenario file{Environment.NewLine}"));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Test]
    public void UnknownDesign_IsExit2()
    {
        var (code, _, stderr) = CliRun.Invoke("experiment", "xdp-chain", "--design", "bpf_link");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("bpfsim: --design"));
    }
}
