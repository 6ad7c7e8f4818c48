using System.Diagnostics;

namespace BpfSim.Tests.Tools;

/// <summary>
/// tools/kernel-validate compares bpfsim with the live kernel; that needs root and minutes, so it never runs here. Its
/// pure parts do: the scenario → testbed translation, the statistics and the comparison table (<c>run --self-test</c>),
/// and the refusals (<c>run --check</c>, which translates only and never touches the kernel). Skipped without a
/// python3 that has PyYAML.
/// </summary>
[Category("Tools")]
public sealed class KernelValidateTests
{
    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    private static string Tool => Path.Combine(Repo(), "tools", "kernel-validate", "run");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        if (!File.Exists("/bin/bash"))
            Assert.Ignore("no /bin/bash to run tools/kernel-validate/run");
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Tool);
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("tools/kernel-validate/run took over 30 s");
        }
        string err = stderr.Result;
        if (p.ExitCode == 2 && err.Contains("no python3 with PyYAML"))
            Assert.Ignore("no python3 with PyYAML (apt-get install -y python3-yaml)");
        return (p.ExitCode, stdout.Result, err);
    }

    [Test]
    public void SelfTest_Passes()
    {
        var (code, stdout, stderr) = Run("--self-test");
        Assert.That(code, Is.Zero, stdout + stderr);
        Assert.That(stdout, Does.Contain("self-test: ok"));
    }

    [Test]
    public void Check_AcceptanceScenario_Is32CubicFlowsThroughA42PacketPfifoAt24MsRtt()
    {
        var (code, stdout, stderr) = Run("--check", Path.Combine(Repo(), "tools/kernel-validate/scenarios/shallow_buffer_32.yaml"));
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("\"delay_us\": 24000"));
        Assert.That(stdout, Does.Contain("\"pfifo\", \"limit\", \"42\""));
        // each flow bound to the address of its own access link (10.201.10.1 ... 10.201.41.1), a tbf at 1 Gbit/s
        var specs = System.Text.RegularExpressions.Regex.Matches(stdout, "\"cubic:0:0:(10\\.201\\.\\d+\\.1)\"");
        Assert.That(specs.Count, Is.EqualTo(32));
        Assert.That(specs.Select(m => m.Groups[1].Value).Distinct().Count(), Is.EqualTo(32));
        Assert.That(stdout, Does.Contain("\"access_tc\": [\"tc\", \"qdisc\", \"replace\", \"dev\", \"kvs<i>\", \"root\", \"handle\", \"1:\", \"tbf\", \"rate\", \"1009333333bit\""));
    }

    [TestCase("scenarios/competing_algorithms.yaml", "never attaches struct_ops")]
    [TestCase("scenarios/parking_lot.yaml", "only dumbbell")]
    [TestCase("scenarios/dctcp_ecn.yaml", "refused")]
    public void Check_RefusesWhatTheKernelRunCannotReproduce(string scenario, string why)
    {
        var (code, _, stderr) = Run("--check", Path.Combine(Repo(), scenario));
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr, Does.Contain(why));
    }
}
