using System.Text.Json;
using BpfSim.Scheduler.Fair;

namespace BpfSim.Tests.Cli;

/// <summary>
/// <c>sched_features</c>: the fair class's sched_feat switches by their features.h names, as the kernel's debugfs
/// features file sets them; the summary and first line name the ones changed.
/// </summary>
[Category("Cli")]
public sealed class SchedFeaturesTests
{
    private const string Tasks = "tasks:\n  - { name: hog, count: 2 }\n  - { name: sw, count: 6, behavior: { sleep_wake: { run: 1ms, sleep: 2ms } } }\n";

    [Test]
    public void Parse_NamesSetTheirSwitches_OthersKeepTheDefaults()
    {
        var spec = SchedScenarioParseTests.Load("subsystem: sched\nsched_features: { NI_RANDOM: false, DELAY_DEQUEUE: false, PLACE_LAG: true }\n" + Tasks, out _);
        Assert.That(spec.Features, Is.EqualTo(FairFeatures.Default with { NiRandom = false, DelayDequeue = false }));
        Assert.That(spec.Features.Changed(), Is.EqualTo(new[] { "NO_DELAY_DEQUEUE", "NO_NI_RANDOM" }), "features.h order");
    }

    [Test]
    public void EverySwitch_IsReadByItsName()
    {
        // Each name turns off exactly its own switch: a table row bound to the wrong property would turn off another.
        foreach (var (name, get, _) in FairFeatures.Switches)
        {
            var spec = SchedScenarioParseTests.Load($"subsystem: sched\nsched_features: {{ {name}: false }}\n" + Tasks, out _);
            Assert.That(get(spec.Features), Is.False, name);
            Assert.That(spec.Features.Changed(), Is.EqualTo(new[] { "NO_" + name }), name);
        }
        Assert.That(typeof(FairFeatures).GetProperties().Count(p => p.PropertyType == typeof(bool)), Is.EqualTo(FairFeatures.Switches.Count),
            "every switch has a name");
    }

    [Test]
    public void Run_ReportsTheChangedSwitches_AndTheyChangeTheSchedule()
    {
        string yaml = "subsystem: sched\nseed: 3\nduration: 1s\ncpus: 4\n";
        var (c1, withDefaults, e1) = CliRun.Invoke("run", CliRun.Scenario(yaml + Tasks), "--json");
        var (c2, changed, e2) = CliRun.Invoke("run", CliRun.Scenario(yaml + "sched_features: { DELAY_DEQUEUE: false }\n" + Tasks), "--json");
        var (c3, terminal, e3) = CliRun.Invoke("run", CliRun.Scenario(yaml + "sched_features: { DELAY_DEQUEUE: false }\n" + Tasks));
        Assert.That((c1, c2, c3), Is.EqualTo((0, 0, 0)), e1 + e2 + e3);
        using var a = JsonDocument.Parse(withDefaults);
        using var b = JsonDocument.Parse(changed);
        Assert.Multiple(() =>
        {
            Assert.That(a.RootElement.TryGetProperty("sched_features", out _), Is.False, "absent with the defaults");
            Assert.That(b.RootElement.GetProperty("sched_features").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "NO_DELAY_DEQUEUE" }));
            Assert.That(b.RootElement.GetProperty("tasks").GetRawText(), Is.Not.EqualTo(a.RootElement.GetProperty("tasks").GetRawText()),
                "sleepers no longer stay queued after they block: another schedule");
            Assert.That(terminal, Does.Contain("(sched_features NO_DELAY_DEQUEUE)"));
        });
    }
}
