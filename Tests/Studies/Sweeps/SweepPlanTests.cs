using BpfSim.Studies.Scenarios;
using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class SweepPlanTests
{
    private static SweepPlan Plan(string sweep, string baseText = SweepFixtures.Base) =>
        SweepPlan.Load(SweepFixtures.Write(sweep, baseText), SweepFixtures.Factory, SweepFixtures.Catalog);

    private static ScenarioException Refused(string sweep, string baseText = SweepFixtures.Base)
    {
        string path = SweepFixtures.Write(sweep, baseText);
        return Assert.Throws<ScenarioException>(() => SweepPlan.Load(path, SweepFixtures.Factory, SweepFixtures.Catalog))!;
    }

    [Test]
    public void Expand_Points_NumberedWithTheLastKeyFastest()
    {
        var plan = Plan("base: base.yaml\ngrid:\n  flows[0].cc: [cubic, bbr]\n  network.bottleneck.queue.limit: [20, 80, 320]\nseeds: 1..2\n");
        Assert.That(plan.Points.Select(p => p.Id), Is.EqualTo(new[] { "p000", "p001", "p002", "p003", "p004", "p005" }));
        Assert.That(plan.Points.Select(p => $"{p.Values[0].Cell}/{p.Values[1].Cell}"),
            Is.EqualTo(new[] { "cubic/20", "cubic/80", "cubic/320", "bbr/20", "bbr/80", "bbr/320" }));
        Assert.That(plan.Runs.Select(r => r.Id).Take(4), Is.EqualTo(new[] { "p000-s01", "p000-s02", "p001-s01", "p001-s02" }));
        Assert.That(plan.Points[4].Scenario.Spec.Flows[0].Cc, Is.EqualTo("bbr"));
        Assert.That(plan.Points[4].Scenario.Spec.Network.Queue.Limit, Is.EqualTo(80));
    }

    [Test]
    public void Expand_BlockStyleEntry_ValueSplicedInPlaceKeepingTheRestOfTheText()
    {
        var plan = Plan("base: base.yaml\ngrid:\n  flows[1].cc: [bbr]\n  flows[1].count: [3]\nseeds: 1\n");
        string text = plan.Points[0].Text;
        Assert.That(text, Does.Contain("  - count: 3\n    cc: bbr\n    start: 0.1s"));
        Assert.That(text, Does.StartWith("# a small dumbbell for the sweep tests\n"), "comments and layout are the base's");
        Assert.That(text.Split('\n'), Has.Length.EqualTo(SweepFixtures.Base.Split('\n').Length), "no line added or removed");
        Assert.That(plan.Points[0].Scenario.Spec.Flows[1].Count, Is.EqualTo(3));
    }

    [Test]
    public void Expand_NewFinalKey_AddedToAnExistingMapping()
    {
        var plan = Plan("base: base.yaml\ngrid:\n  network.bottleneck.loss: [0.01]\n  network.bottleneck.queue.limit_bytes: [75KB]\n  sample_interval: [50ms]\nseeds: 1\n");
        var spec = plan.Points[0].Scenario.Spec;
        Assert.That(spec.Network.BottleneckLoss, Is.EqualTo(0.01));
        Assert.That(spec.SampleInterval.Nanoseconds, Is.EqualTo(50_000_000));
        Assert.That(spec.Network.Queue.LimitBytes, Is.EqualTo(75_000));
        Assert.That(plan.Points[0].Text, Does.Contain("    queue: { type: droptail, limit: 50, limit_bytes: 75KB }\n    loss: 0.01\n  access:"));
        Assert.That(plan.Points[0].Text, Does.Contain("    start: 0.1s\nsample_interval: 50ms"));
    }

    [Test]
    public void Expand_ListAndMappingValues_WrittenInFlowStyle()
    {
        var plan = Plan("base: base.yaml\ngrid:\n  network.bottleneck.queue:\n    - { type: red, min: 5, max: 15, p_max: 0.1, limit: 40 }\n" +
                        "  flows:\n    - [{ count: 2, cc: bbr, start: 0s }]\nseeds: 1\n");
        var spec = plan.Points[0].Scenario.Spec;
        Assert.That(spec.Flows, Has.Count.EqualTo(1));
        Assert.That(spec.Flows[0].Cc, Is.EqualTo("bbr"));
        Assert.That(spec.Network.Queue.Limit, Is.EqualTo(40));
        Assert.That(plan.Points[0].Values[1].Cell, Is.EqualTo("[{count: 2, cc: bbr, start: 0s}]"));
    }

    [TestCase("flows[5].cc", "flows has 2 entries in the base scenario; [5] is not one of them")]
    [TestCase("network.nope.rate", "the base scenario has no network.nope")]
    [TestCase("flows.cc", "flows is not a mapping in the base scenario")]
    [TestCase("network[0]", "network is not a list in the base scenario")]
    public void Expand_PathNotInTheBase_ReportedAtTheSweepLine(string key, string message)
    {
        var e = Refused($"base: base.yaml\nseeds: 1\ngrid:\n  duration: [2s]\n  {key}: [x]\n");
        Assert.That(e.Errors, Has.Count.EqualTo(1));
        var error = e.Errors[0];
        Assert.That(error.File, Does.EndWith("sweep.yaml"));
        Assert.That((error.Line, error.Column), Is.EqualTo((5, 3)));
        Assert.That(error.Message, Does.Contain(message));
    }

    [Test]
    public void Expand_InvalidPoint_ReportedAtTheBaseLineNamingThePoint()
    {
        var e = Refused("base: base.yaml\ngrid:\n  flows[0].cc: [cubic, nosuch]\n  duration: [1s, 2s]\nseeds: 1\n");
        Assert.That(e.Errors, Has.Count.EqualTo(1), string.Join("\n", e.Errors));
        var error = e.Errors[0];
        Assert.That(error.File, Does.EndWith("base.yaml"));
        Assert.That(error.Line, Is.EqualTo(12), "the line of flows[0] in the base");
        Assert.That(error.Message, Does.StartWith("point p002 (flows[0].cc=nosuch, duration=1s) and 1 other point: "));
        Assert.That(error.Message, Does.Contain("nosuch"));
    }

    [Test]
    public void Expand_MissingBase_ReportedAtTheBaseKey()
    {
        var e = Refused("seeds: 1\nbase: nothere.yaml\n");
        Assert.That((e.Errors[0].Line, e.Errors[0].Column), Is.EqualTo((2, 7)));
        Assert.That(e.Errors[0].Message, Does.Contain("no such file"));
    }

    [Test]
    public void Expand_EmptyGrid_OnePointTheBase()
    {
        var plan = Plan("base: base.yaml\nseeds: [3, 1]\n");
        Assert.That(plan.Points, Has.Count.EqualTo(1));
        Assert.That(plan.Points[0].Text, Is.EqualTo(SweepFixtures.Base));
        Assert.That(plan.Runs.Select(r => r.Id), Is.EqualTo(new[] { "p000-s03", "p000-s01" }));
    }
}
