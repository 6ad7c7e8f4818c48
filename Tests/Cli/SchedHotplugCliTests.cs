using System.Text.Json;
using BpfSim.Cli;
using BpfSim.Studies;

namespace BpfSim.Tests.Cli;

/// <summary>
/// <c>hotplug:</c> in a <c>subsystem: sched</c> scenario through the command: its mistakes refused with
/// <c>file:line:column</c> (a CPU that does not exist, the last online CPU — cpu_down's EBUSY —, an event that would
/// change nothing), and the worked example scenarios/sched_hotplug.yaml: scx_simple exits at every event with the
/// kernel's exit info, restart_on_exit brings it back, and summary.json, hotplug.csv, report.html and the terminal
/// say so; a run without hotplug has no hotplug keys.
/// </summary>
[Category("Cli")]
public sealed class SchedHotplugCliTests
{
    private const string Head = "subsystem: sched\nduration: 2s\ncpus: 2\ntasks: [ { name: a } ]\n";

    private static string Shipped(string name) => Path.Combine(AppContext.BaseDirectory, "scenarios", name);

    private static IEnumerable<TestCaseData> Broken()
    {
        TestCaseData Case(string name, string yaml, string marker, string message) => new TestCaseData(yaml, marker, message).SetName(name);
        yield return Case("HotplugUnknownCpu", Head + "hotplug:\n  - { at: 1s, cpu: 2, online: false }\n", "2, online", "cpu 2 does not exist: the machine has 2 CPUs (0 … 1)");
        yield return Case("HotplugLastOnlineCpu", Head + "hotplug:\n  - { at: 1s, cpu: 0, online: false }\n  - { at: 1.5s, cpu: 1, online: false }\n",
            "{ at: 1.5s", "cpu 1 is the last online CPU at 1.5s: the kernel refuses to take it offline (cpu_down: EBUSY)");
        yield return Case("HotplugCpu0WithNohzFull",
            "subsystem: sched\nduration: 2s\ncpus: { count: 3, nohz_full: [1, 2] }\ntasks: [ { name: a } ]\nhotplug:\n  - { at: 1s, cpu: 0, online: false }\n",
            "{ at: 1s", "cpu 0 does the timekeeping for the nohz_full CPUs: the kernel refuses to take it offline (tick_nohz_cpu_down: EBUSY)");
        yield return Case("HotplugAlreadyOnline", Head + "hotplug:\n  - { at: 1s, cpu: 1, online: true }\n", "{ at", "cpu 1 is already online at 1s");
        yield return Case("HotplugAlreadyOffline", Head + "hotplug:\n  - { at: 0.5s, cpu: 1, online: false }\n  - { at: 1s, cpu: 1, online: false }\n",
            "{ at: 1s", "cpu 1 is already offline at 1s (since 500ms)");
        yield return Case("HotplugAfterTheEnd", Head + "hotplug:\n  - { at: 3s, cpu: 1, online: false }\n", "3s", "at (3s) is not before the end of the run (2s)");
        yield return Case("HotplugNoOnline", Head + "hotplug:\n  - { at: 1s, cpu: 1 }\n", "{ at", "a hotplug event needs online");
        yield return Case("HotplugUnknownKey", Head + "hotplug:\n  - { at: 1s, cpu: 1, online: false, socket: 0 }\n", "socket", "unknown key 'socket' in a hotplug event");
        yield return Case("HotplugNotAList", Head + "hotplug: 3\n", "3\n", "hotplug must be a list");
        yield return Case("HotplugInTcp", "duration: 2s\nflows: [ { cc: reno } ]\nhotplug: []\n", "hotplug", "hotplug is a key of scheduler scenarios");
    }

    [TestCaseSource(nameof(Broken))]
    public void Validate_BrokenHotplug_ExitsTwoWithFileLineColumn(string yaml, string marker, string message)
    {
        string file = CliRun.Scenario(yaml);
        var (line, column) = SchedScenarioErrorTests.Where(yaml, marker);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain($"{file}:{line}:{column}: ").And.Contain(message), $"expected at {line}:{column}");
    }

    [Test]
    public void Validate_HotplugOfCpuZero_WithAnotherCpuOnline_IsAccepted()
    {
        var (code, _, err) = CliRun.Invoke("validate", CliRun.Scenario(Head + "hotplug:\n  - { at: 1s, cpu: 0, online: false }\n  - { at: 1.5s, cpu: 0, online: true }\n"));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
    }

    [Test]
    public void WorkedExample_Json_EachEventExitsScxSimple_AndRestartOnExitBringsItBack()
    {
        var (code, output, err) = CliRun.Invoke("run", Shipped("sched_hotplug.yaml"), "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        var hotplug = root.GetProperty("hotplug");
        var events = hotplug.GetProperty("events").EnumerateArray().ToList();
        var schedulers = root.GetProperty("schedulers").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(events.Select(e => e.GetProperty("seq").GetInt64()), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
            Assert.That(events.Select(e => e.GetProperty("cpu").GetInt32()), Is.EqualTo(new[] { 3, 2, 3, 2 }));
            Assert.That(hotplug.GetProperty("seq").GetInt64(), Is.EqualTo(4));
            Assert.That(hotplug.GetProperty("restarts").GetInt32(), Is.EqualTo(4));
            Assert.That(hotplug.GetProperty("affinity_broken").GetInt64(), Is.GreaterThanOrEqualTo(1), "the task pinned to CPU 3");
            Assert.That(schedulers, Has.Count.EqualTo(5));
            Assert.That(schedulers.Take(4).Select(s => s.GetProperty("exit_kind").GetString()), Is.All.EqualTo("SCX_EXIT_UNREG_KERN"));
            Assert.That(schedulers[0].GetProperty("exit_msg").GetString(), Is.EqualTo("cpu 3 going offline, exiting scheduler"));
            Assert.That(schedulers[2].GetProperty("exit_msg").GetString(), Is.EqualTo("cpu 3 going online, exiting scheduler"));
            Assert.That(schedulers[4].GetProperty("exit_kind").ValueKind, Is.EqualTo(JsonValueKind.Null), "the last restart runs to the end");
            Assert.That(root.GetProperty("ejections").GetArrayLength(), Is.Zero);
            var cpus = root.GetProperty("cpus").EnumerateArray().ToList();
            var offline = hotplug.GetProperty("cpu_offline_s").EnumerateArray().Select(x => x.GetDouble()).ToList();
            Assert.That(offline, Is.EqualTo(new[] { 0.0, 0.0, 1.0, 1.0 }));
            Assert.That(cpus.Select(c => c.GetProperty("utilization").GetDouble()), Is.All.LessThanOrEqualTo(1.0));
        });
    }

    [Test]
    public void WorkedExample_Out_WritesHotplugCsv_AndTheReportShowsOfflineSpans()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-hotplug-{Guid.NewGuid():N}");
        var (code, output, err) = CliRun.Invoke("run", Shipped("sched_hotplug.yaml"), "--out", dir);
        try
        {
            Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
            Assert.That(output, Does.Contain("hotplug: 4 events (scx_hotplug_seq 4)").And.Contain("x offline"));
            Assert.That(output, Does.Match(@"cpu   3 \S*xxxxxxxxxx"), "CPU 3's offline second in the strip");
            var csv = File.ReadAllLines(Path.Combine(dir, "hotplug.csv"));
            Assert.That(csv[0], Is.EqualTo("t_s,cpu,online,seq,tasks_migrated,affinity_broken,handled_by"));
            Assert.That(csv, Has.Length.EqualTo(5));
            string html = File.ReadAllText(Path.Combine(dir, "report.html"));
            Assert.That(html, Does.Contain("<rect class=\"offline\"").And.Contain("cpu 3 offline 1–2 s").And.Contain("<h2>CPU hotplug</h2>"));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Test]
    public void RunWithoutHotplug_HasNoHotplugKeys()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario(Head), "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Not.Contain("hotplug").And.Not.Contain("offline"));
    }
}
