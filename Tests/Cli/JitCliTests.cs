using System.Text.Json;
using BpfSim.Studies;

namespace BpfSim.Tests.Cli;

/// <summary>
/// <c>bpfsim run --no-jit</c>: BPF objects' programs in the interpreter instead of compiled. The JIT is an
/// implementation of the same machine, so every result (flows, schedules, program run and instruction counts,
/// struct_ops timelines) must be the same either way; only the wall time may differ.
/// </summary>
[Category("Cli")]
public sealed class JitCliTests
{
    [TestCase(null, TestName = "DefaultScenario_BpfDctcpObject_SameSummaryWithAndWithoutJit")]
    [TestCase("scx_simple_bpf.yaml", TestName = "ScxSimpleObject_SameSummaryWithAndWithoutJit")]
    [TestCase("bpf_link_update.yaml", TestName = "LinkUpdateAcrossObjects_SameSummaryWithAndWithoutJit")]
    public void Run_WithAndWithoutJit_GivesTheSameSummary(string? scenario)
    {
        string[] args = scenario is null ? ["run", "--json"] : ["run", Path.Combine(Repo(), "scenarios", scenario), "--json"];
        var (c1, jit, e1) = CliRun.Invoke(args);
        var (c2, interpreted, e2) = CliRun.Invoke([.. args, "--no-jit"]);
        Assert.That((c1, c2), Is.EqualTo((ExitCodes.Success, ExitCodes.Success)), e1 + e2);
        Assert.That(Jited(jit), Is.All.True, "compiled by default");
        Assert.That(Jited(interpreted), Is.All.False, "interpreted with --no-jit");
        Assert.That(Comparable(jit), Is.EqualTo(Comparable(interpreted)));
        using var doc = JsonDocument.Parse(jit);
        var programs = doc.RootElement.GetProperty("programs").EnumerateArray().ToList();
        Assert.That(programs.Sum(p => p.GetProperty("run_cnt").GetInt64()), Is.GreaterThan(100), "the objects' programs ran");
    }

    [Test]
    public void Terminal_SaysHowTheProgramsRan()
    {
        string file = Path.Combine(Repo(), "scenarios", "scx_simple_bpf.yaml");
        var (c1, compiled, e1) = CliRun.Invoke("run", file);
        var (c2, interpreted, e2) = CliRun.Invoke("run", file, "--no-jit");
        Assert.That((c1, c2), Is.EqualTo((ExitCodes.Success, ExitCodes.Success)), e1 + e2);
        Assert.That(compiled, Does.Contain("BPF programs (bytecode, JIT-compiled)"));
        Assert.That(interpreted, Does.Contain("BPF programs (bytecode, interpreted)"));
    }

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    [Test]
    public void SweepEmit_PassesNoJitOnToEachArrayTask()
    {
        string sweep = BpfSim.Tests.Studies.Sweeps.SweepFixtures.Write("name: nj\nbase: base.yaml\ngrid:\n  flows[1].cc: [reno, bbr]\nseeds: 1\n");
        string with = BpfSim.Tests.Studies.Sweeps.SweepFixtures.OutDir();
        string without = BpfSim.Tests.Studies.Sweeps.SweepFixtures.OutDir();
        Assert.That(CliRun.Invoke("sweep", sweep, "--emit", "slurm", with, "--bpfsim", "/opt/bpfsim/bpfsim", "--no-jit").Code, Is.Zero);
        Assert.That(CliRun.Invoke("sweep", sweep, "--emit", "slurm", without, "--bpfsim", "/opt/bpfsim/bpfsim").Code, Is.Zero);
        string script = BpfSim.Studies.Sweeps.SlurmScript.FileName;
        Assert.That(File.ReadAllText(Path.Combine(with, script)), Does.Contain("--no-jit"));
        Assert.That(File.ReadAllText(Path.Combine(without, script)), Does.Not.Contain("--no-jit"));
    }

    private static List<bool> Jited(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var jited = doc.RootElement.GetProperty("programs").EnumerateArray().Select(p => p.GetProperty("jited").GetBoolean()).ToList();
        Assert.That(jited, Is.Not.Empty);
        return jited;
    }

    /// <summary>The summary less what may differ: the wall time, and whether the programs were compiled.</summary>
    private static string Comparable(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        string text = string.Join(",", root.EnumerateObject().Where(p => p.Name != "wall_s").Select(p => p.Name + "=" + p.Value.GetRawText()));
        return System.Text.RegularExpressions.Regex.Replace(text, "\"jited\":\\s*(true|false)", "\"jited\":_");
    }
}
