using BpfSim.Studies;
using BpfSim.Studies.Scenarios;
using BpfSim.Tests.Cli;

namespace BpfSim.Tests.Studies.Mahimahi;

/// <summary>
/// The bottleneck's keys for links that change — <c>mahimahi</c>, <c>mahimahi_up</c>, <c>changes</c> — read into the
/// spec, and every mistake reported where it is: the scenario's line for its keys, the trace's line for the trace.
/// </summary>
[Category("Studies")]
public sealed class LinkKeysParseTests
{
    private static readonly Study s_study = new();

    private static string Folder(params (string Name, string Text)[] files)
    {
        string dir = Path.Combine(Path.GetTempPath(), "bpfsim-keys-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "traces"));
        foreach (var (name, text) in files)
        {
            File.WriteAllText(Path.Combine(dir, name), text);
        }
        return dir;
    }

    private static string Yaml(string bottleneck) => $"duration: 30s\nnetwork:\n  bottleneck:\n{bottleneck}flows: [ {{ cc: reno }} ]\n";

    private static IReadOnlyList<ScenarioError> Errors(string yaml, string dir)
    {
        var e = Assert.Throws<ScenarioException>(() => s_study.Parse(yaml, "s.yaml", dir))!;
        return e.Errors;
    }

    [Test]
    public void TracesAndChanges_AreRead_RelativeToTheScenario()
    {
        string dir = Folder(("traces/a.down", "1\n2\n2\n4\n"), ("traces/a.up", "5\n"));
        var spec = s_study.Parse(Yaml("""
                mahimahi: traces/a.down
                mahimahi_up: traces/a.up
                delay: 20ms
                changes: [ { at: 10s, delay: 40ms }, { at: 20s, loss: 0.01 } ]

            """), "s.yaml", dir).Spec!;
        Assert.That(spec.Network.Mahimahi!.Count, Is.EqualTo(4));
        Assert.That(spec.Network.Mahimahi.Source, Is.EqualTo("traces/a.down"));
        Assert.That(spec.Network.MahimahiUp!.PeriodMs, Is.EqualTo(5));
        Assert.That(spec.Network.Changes.Select(c => (c.At.TotalSeconds, c.Delay?.TotalMilliseconds, c.Loss)),
            Is.EqualTo(new[] { (10.0, (double?)40.0, (double?)null), (20.0, null, 0.01) }));
    }

    [Test]
    public void MissingTrace_IsAnErrorAtTheKey()
    {
        var errors = Errors(Yaml("    mahimahi: traces/none.down\n"), Folder());
        Assert.That(errors.Single().ToString(), Does.StartWith("s.yaml:4:15: mahimahi: cannot read the trace traces/none.down").And.Contain("no such file"));
    }

    [Test]
    public void BadTrace_IsAnErrorAtTheTracesLine()
    {
        string dir = Folder(("traces/bad.down", "1\n5\n3\n"));
        var error = Errors(Yaml("    mahimahi_up: traces/bad.down\n"), dir).Single();
        Assert.That((error.File, error.Line), Is.EqualTo((Path.Combine(dir, "traces/bad.down"), 3)));
        Assert.That(error.Message, Does.Contain("monotonically nondecreasing").And.Contain("mahimahi_up, s.yaml:4:18"));
    }

    private static IEnumerable<TestCaseData> BadChanges()
    {
        yield return new TestCaseData("    changes: { at: 1s }\n", 4, "changes must be a list").SetName("Changes_NotAList");
        yield return new TestCaseData("    changes: [ { rate: 5Mbps } ]\n", 4, "a change needs at").SetName("Change_WithoutAt");
        yield return new TestCaseData("    changes: [ { at: 5s } ]\n", 4, "sets at least one of rate, delay and loss").SetName("Change_SettingNothing");
        yield return new TestCaseData("    changes: [ { at: 5s, jitter: 1ms } ]\n", 4, "unknown key 'jitter' in a change").SetName("Change_UnknownKey");
        yield return new TestCaseData("    changes: [ { at: 30s, rate: 5Mbps } ]\n", 4, "not before the end of the run").SetName("Change_AtTheEnd");
        yield return new TestCaseData("    changes: [ { at: 5s, loss: 2 } ]\n", 4, "loss must be at least 0 and at most 1").SetName("Change_LossAboveOne");
        yield return new TestCaseData("    changes:\n      - { at: 5s, rate: 5Mbps }\n      - { at: 4s, rate: 6Mbps }\n", 6, "in time order")
            .SetName("Changes_OutOfOrder");
        yield return new TestCaseData("    mahimahi: traces/a.down\n    changes: [ { at: 5s, rate: 5Mbps } ]\n", 5, "the trace is its rate")
            .SetName("RateChange_OnATraceDrivenBottleneck");
        yield return new TestCaseData("    mahimahi: traces/a.down\n    mahimahi_up: traces/a.down\n    rate: 5Mbps\n", 6, "both directions follow Mahimahi traces")
            .SetName("Rate_WithBothDirectionsTraced");
    }

    [TestCaseSource(nameof(BadChanges))]
    public void BadKey_IsAnErrorAtItsLine(string bottleneck, int line, string reason)
    {
        var errors = Errors(Yaml(bottleneck), Folder(("traces/a.down", "1\n")));
        Assert.That(errors.Select(e => (e.Line, e.Message)), Has.Some.Matches<(int Line, string Message)>(e => e.Line == line && e.Message.Contains(reason)),
            string.Join("\n", errors));
    }

    [Test]
    public void MissingTrace_FromTheCli_ExitsTwo_WithFileLineColumn()
    {
        string file = CliRun.Scenario(Yaml("    mahimahi: cell.down\n"));
        var (code, output, err) = CliRun.Invoke("run", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.StartWith($"{file}:4:15: mahimahi: cannot read the trace cell.down"));
        Assert.That(output, Is.Empty);
    }
}
