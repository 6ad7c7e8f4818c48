using System.Text.Json.Nodes;
using BpfSim.Cli.Commands;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Workloads;
using BpfSim.Studies;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Studies;

/// <summary>
/// The library path (DESIGN §7): a scenario loaded, checked and run through <see cref="Study"/> gives what
/// <c>bpfsim run</c> gives, and a run's problems come back as the CLI's messages and exit codes, never as exceptions.
/// </summary>
[Category("Studies")]
public sealed class StudyTests
{
    private static readonly Study s_study = new();

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    /// <summary>The summary JSON without its wall-clock field, which is the one thing two runs may differ in.</summary>
    private static string WithoutWall(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove("wall_s");
        return node.ToJsonString();
    }

    [Test]
    public void DefaultScenario_StudyRun_EqualsCliRunJson()
    {
        var outcome = s_study.Run(s_study.Load(null).WithDuration(SimTime.FromSeconds(2)));
        var stdout = new StringWriter();
        int code = BpfSimCommand.Invoke(["run", "--duration", "2s", "--json"], stdout, new StringWriter());

        Assert.That((outcome.ExitCode, code), Is.EqualTo((0, 0)));
        Assert.That(WithoutWall(outcome.SummaryJson), Is.EqualTo(WithoutWall(stdout.ToString())));
    }

    [Test]
    public void StallingScheduler_RunCompletes_Exit3_WarningHasKernelMessage()
    {
        var outcome = s_study.Run(s_study.Load(Path.Combine(Repo(), "scenarios", "scx_stall.yaml")));

        Assert.That(outcome.Completed, Is.True);
        Assert.That(outcome.ExitCode, Is.EqualTo(ExitCodes.CompletedWithFault));
        Assert.That(outcome.Sched!.Ejections, Has.Count.EqualTo(1));
        Assert.That(outcome.Warnings, Has.Some.Contains("failed to run for"));
    }

    [Test]
    public void Parse_UnknownAlgorithm_ErrorNamesFileLineAndColumn()
    {
        var e = Assert.Throws<ScenarioException>(() => s_study.Parse("flows:\n  - { count: 1, cc: nope }\n", "mine.yaml"));

        Assert.That(e!.Errors[0].ToString(), Does.StartWith("mine.yaml:2:"));
    }

    [Test]
    public void FromSpec_UnknownConsumer_IsRefusedBeforeTheRun()
    {
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromSeconds(1),
            StructOps = [new StructOpsEntry { Program = "no_such_consumer", At = SimTime.Zero }],
            Flows = [new FlowSpec { Cc = "cubic" }],
        };

        var e = Assert.Throws<ScenarioException>(() => s_study.FromSpec(spec, "coded"));

        Assert.That(e!.Errors[0].ToString(), Does.Contain("no_such_consumer"));
    }

    [Test]
    public void FromSpec_SchedulerScenario_TwoNiceLevelsShareOneCpuByWeight()
    {
        var spec = new SchedScenarioSpec
        {
            Duration = SimTime.FromSeconds(2),
            Cpus = new CpuSpec { Count = 1 },
            Tasks = [new TaskGroupSpec { Name = "n0", Nice = 0 }, new TaskGroupSpec { Name = "n5", Nice = 5 }],
        };

        var tasks = s_study.Run(s_study.FromSpec(spec, "coded")).Sched!.Tasks;

        // sched_prio_to_weight: nice 0 → 1024, nice 5 → 335 (kernel/sched/core.c).
        double ratio = tasks.Single(t => t.Name.StartsWith("n0")).RuntimeSeconds / tasks.Single(t => t.Name.StartsWith("n5")).RuntimeSeconds;
        Assert.That(ratio, Is.EqualTo(1024.0 / 335).Within(2).Percent);
    }

    [Test]
    public void WriteOutputs_CompletedRun_WritesTheCliFiles()
    {
        var outcome = s_study.Run(s_study.Load(null).WithDuration(SimTime.FromSeconds(1)));
        var dir = Directory.CreateTempSubdirectory("bpfsim-study-").FullName;
        try
        {
            var files = outcome.WriteOutputs(dir).Select(Path.GetFileName).ToList();

            Assert.That(files, Is.SupersetOf(new[] { "summary.json", "flows.csv", "timeseries.csv", "struct_ops.json", "report.html" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
