using BpfSim.Studies;
using System.Text.Json;
using BpfSim.Cli;

namespace BpfSim.Tests.Cli;

/// <summary>
/// A C# sched_ext scheduler whose ops.enqueue never returns, run as a user runs it (the built command, a separate
/// process, so the abandoned attempt's spinning thread ends with it): the run is replayed with that call refused, the
/// scheduler is ejected with an error exit naming the op, the run completes and exits 3 — the same way every time.
/// </summary>
[Category("Cli")]
public sealed class SchedHangCliTests
{
    private static readonly string s_spinningDll = CliRun.ConsumerDll("TestConsumers/SpinningScx", "SpinningScx");

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("bpfsim-sched-hang-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Scenario()
    {
        string file = Path.Combine(_dir, "spin.yaml");
        File.WriteAllText(file, $"""
            subsystem: sched
            seed: 3
            duration: 1s
            cpus: 2
            structops:
              - {"{"} program: {s_spinningDll}, at: 0.2s {"}"}
            tasks:
              - {"{"} name: hog, count: 3 {"}"}
              - {"{"} name: web, count: 2, behavior: {"{"} sleep_wake: {"{"} run: exp(1ms), sleep: exp(4ms) {"}"} {"}"} {"}"}
            """);
        return file;
    }

    [Test]
    public void EnqueueNeverReturns_Abandoned_ReplayEjectsWithError_Exit3_SameTwice()
    {
        string file = Scenario();
        var (code, output, err) = CliRun.Built("run", file, "--json", "--call-timeout", "300ms");

        Assert.That(code, Is.EqualTo(ExitCodes.CompletedWithFault), err);
        Assert.That(err, Does.Contain("t_spin.enqueue (call ").And.Contain("did not return within 0.3 s; replaying the run with t_spin ejected at that call"));
        Assert.That(err, Does.Contain("bpfsim: scheduler t_spin ejected at ").And.Contain(
            "SCX_EXIT_ERROR (runtime error): ops.enqueue() failed: did not return within 0.3 s of wall-clock time (the call was abandoned); " +
            "its tasks went back to the fair class and the run went on"));
        Assert.That(err, Does.Not.Contain("--call-timeout applies to TCP"), "the option is honoured, not ignored");
        using var summary = JsonDocument.Parse(output);
        Assert.That(summary.RootElement.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(1));

        var (again, output2, err2) = CliRun.Built("run", file, "--json", "--call-timeout", "300ms");
        Assert.That(again, Is.EqualTo(code), err2);
        using var summary2 = JsonDocument.Parse(output2);
        Assert.That(WithoutWallClock(summary2.RootElement), Is.EqualTo(WithoutWallClock(summary.RootElement)), "the replay is deterministic");
    }

    /// <summary>The summary's text without its wall-clock fields, which differ between runs by nature.</summary>
    private static string WithoutWallClock(JsonElement root)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(root.GetRawText())!.AsObject();
        node.Remove("wall_s");
        return node.ToJsonString();
    }
}
