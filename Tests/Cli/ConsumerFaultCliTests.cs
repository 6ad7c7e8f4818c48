using BpfSim.Studies;
using System.Diagnostics;
using System.Text.Json;
using BpfSim.Cli;

namespace BpfSim.Tests.Cli;

/// <summary>
/// A consumer DLL that faults, run as a user runs it (the built command, a separate process): the run reaches its
/// end, writes every output with the fault in it, and exits 3.
/// </summary>
[Category("Cli")]
public sealed class ConsumerFaultCliTests
{
    private static readonly string s_faultyDll = CliRun.ConsumerDll("TestConsumers/FaultyCc", "FaultyCc");

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("bpfsim-fault-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Scenario(double seconds)
    {
        string file = Path.Combine(_dir, "faulty.yaml");
        File.WriteAllText(file, $"""
            seed: 2
            duration: {seconds}s
            network:
              bottleneck: {"{"} rate: 20Mbps, delay: 10ms {"}"}
            structops:
              - {"{"} program: {s_faultyDll}, at: 0s {"}"}
            flows:
              - {"{"} count: 2, cc: bpf_faulty, start: 0s {"}"}
              - {"{"} count: 1, cc: cubic, start: 0s {"}"}
            """);
        return file;
    }

    private static (int Code, string Out, string Err) Bpfsim(string fault, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bpfsim.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["BPFSIM_FAULT"] = fault;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        Assert.That(p.WaitForExit(120_000), "bpfsim finished");
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Test]
    public void CongAvoidThrowsAt5s_RunCompletes_Exit3_ReportShowsFault()
    {
        string outDir = Path.Combine(_dir, "out");
        var (code, output, err) = Bpfsim("throw@5s", "run", Scenario(8), "--out", outDir);

        Assert.That(code, Is.EqualTo(ExitCodes.CompletedWithFault), err);
        Assert.That(err, Does.Contain("bpfsim: consumer fault: t=5.").And.Contain("bpf_faulty.cong_avoid").And.Contain("deliberate fault"));
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(output, Does.Contain("consumer faults"));
        foreach (var file in new[] { "summary.json", "flows.csv", "timeseries.csv", "struct_ops.json", "report.html" })
        {
            Assert.That(File.Exists(Path.Combine(outDir, file)), file);
        }
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var fault = summary.RootElement.GetProperty("faults")[0];
        Assert.That(fault.GetProperty("consumer").GetString(), Is.EqualTo("bpf_faulty"));
        Assert.That(fault.GetProperty("member").GetString(), Is.EqualTo("cong_avoid"));
        Assert.That(fault.GetProperty("kind").GetString(), Is.EqualTo("Exception"));
        Assert.That(fault.GetProperty("t_s").GetDouble(), Is.InRange(5.0, 5.2));
        Assert.That(summary.RootElement.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(8));
        var flows = summary.RootElement.GetProperty("flows").EnumerateArray().Where(f => f.GetProperty("cc_requested").GetString() == "bpf_faulty").ToList();
        Assert.That(flows.Select(f => f.GetProperty("cc").GetString()), Is.All.EqualTo("cubic"), "moved to the default algorithm");
        string report = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.That(report, Does.Contain("Consumer faults").And.Contain("deliberate fault").And.Contain("bpf_faulty ejected"));
    }

    [Test]
    public void CongAvoidNeverReturns_Abandoned_RunReplayedAndCompleted_Exit3()
    {
        var (code, output, err) = Bpfsim("hang@1s", "run", Scenario(3), "--json", "--call-timeout", "300ms");

        Assert.That(code, Is.EqualTo(ExitCodes.CompletedWithFault), err);
        Assert.That(err, Does.Contain("bpf_faulty.cong_avoid").And.Contain("did not return within 0.3 s; replaying the run"));
        using var summary = JsonDocument.Parse(output);
        var fault = summary.RootElement.GetProperty("faults")[0];
        Assert.That(fault.GetProperty("kind").GetString(), Is.EqualTo("Timeout"));
        Assert.That(fault.GetProperty("t_s").GetDouble(), Is.InRange(1.0, 1.2));
        Assert.That(summary.RootElement.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(3));
    }

    [TestCase("validate")]
    [TestCase("run")]
    public void ConstructorThrows_RefusedAtTheEntrysLine_ExitTwo(string command)
    {
        var (code, output, err) = Bpfsim("ctor@0s", command, Scenario(3));

        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain("faulty.yaml:6:5: t=0s: bpf_faulty: its constructor failed: InvalidOperationException: " +
                                      "bpf_faulty: deliberate fault in the constructor"));
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(output, Does.Not.Contain("flows"), "nothing was run");
    }

    [Test]
    public void ConstructorNeverReturns_ValidateRefusesAtTheEntrysLine_ExitTwo()
    {
        var (code, _, err) = Bpfsim("ctorhang@0s", "validate", Scenario(3));

        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain("faulty.yaml:6:5: t=0s: ").And.Contain("loading it did not finish within 10 s"));
    }

    [Test]
    public void BadCallTimeout_ExitTwo()
    {
        var (code, _, err) = Bpfsim("throw@5s", "run", Scenario(1), "--call-timeout", "soon");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.StartWith("bpfsim: --call-timeout:"));
    }
}
