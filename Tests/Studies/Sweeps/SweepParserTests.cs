using BpfSim.Studies.Output;
using BpfSim.Studies.Scenarios;
using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class SweepParserTests
{
    private static ScenarioError Single(string text)
    {
        var e = Assert.Throws<ScenarioException>(() => SweepParser.Parse(text, "s.yaml"))!;
        Assert.That(e.Errors, Has.Count.EqualTo(1), string.Join("\n", e.Errors));
        return e.Errors[0];
    }

    [Test]
    public void Parse_FullFile_ReadsBaseGridSeedsAndName()
    {
        var file = SweepParser.Parse("name: cc\nbase: b.yaml\ngrid:\n  flows[1].cc: [cubic, bbr]\n  network.bottleneck.queue.limit: [20, 80, 320]\nseeds: 3..5\n",
            Path.Combine("dir", "s.yaml"));
        Assert.That(file.Name, Is.EqualTo("cc"));
        Assert.That(file.BasePath, Is.EqualTo(Path.Combine("dir", "b.yaml")));
        Assert.That(file.Axes.Select(a => a.Key), Is.EqualTo(new[] { "flows[1].cc", "network.bottleneck.queue.limit" }));
        Assert.That(file.Axes[0].Kind, Is.EqualTo(ResultColumnKind.String));
        Assert.That(file.Axes[1].Kind, Is.EqualTo(ResultColumnKind.Integer));
        Assert.That(file.Axes[1].Values.Select(v => v.Cell), Is.EqualTo(new[] { "20", "80", "320" }));
        Assert.That(file.Seeds, Is.EqualTo(new ulong[] { 3, 4, 5 }));
        Assert.That(file.PointCount, Is.EqualTo(6));
    }

    [TestCase("seeds: [7, 2, 9]", new ulong[] { 7, 2, 9 })]
    [TestCase("seeds: 4", new ulong[] { 4 })]
    [TestCase("seeds: 1..1", new ulong[] { 1 })]
    [TestCase("seeds: 1..10", new ulong[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    public void Parse_Seeds_RangeListOrOne(string seeds, ulong[] expected) =>
        Assert.That(SweepParser.Parse($"base: b.yaml\n{seeds}\n", "s.yaml").Seeds, Is.EqualTo(expected));

    [Test]
    public void Parse_NoName_NamedAfterTheFile() =>
        Assert.That(SweepParser.Parse("base: b.yaml\nseeds: 1\n", "/x/my_study.yaml").Name, Is.EqualTo("my_study"));

    [TestCase("base: b.yaml\nseeds: 5..2\n", 2, 8, "empty")]
    [TestCase("base: b.yaml\nseeds: [1, x]\n", 2, 12, "not a whole number")]
    [TestCase("base: b.yaml\nseeds: [1, 1]\n", 2, 12, "listed twice")]
    [TestCase("base: b.yaml\nseeds: 1..10\nbogus: 1\n", 3, 1, "unknown key 'bogus'")]
    [TestCase("base: b.yaml\ngrid:\n  flows[0].cc: cubic\nseeds: 1\n", 3, 16, "a list of the values")]
    [TestCase("base: b.yaml\ngrid:\n  flows[x].cc: [a]\nseeds: 1\n", 3, 3, "whole number index")]
    [TestCase("base: b.yaml\ngrid:\n  flows..cc: [a]\nseeds: 1\n", 3, 3, "empty key")]
    [TestCase("base: b.yaml\ngrid:\n  network.bottleneck: [a]\n  network.bottleneck.loss: [0.1]\nseeds: 1\n", 4, 3, "change the same part")]
    [TestCase("base: b.yaml\ngrid:\n  flows[0].cc: [a, b, a]\nseeds: 1\n", 3, 23, "listed twice")]
    [TestCase("base: b.yaml\nname: a b\nseeds: 1\n", 2, 7, "name:")]
    [TestCase("base: b.yaml\ngrid:\n  seed: [1, 2]\nseeds: 1\n", 3, 3, "give them as seeds:")]
    [TestCase("base: [a]\nseeds: 1\n", 1, 7, "base: must name")]
    [TestCase("seeds: 1\n", 1, 1, "base: is missing")]
    [TestCase("base: b.yaml\n", 1, 1, "seeds: is missing")]
    [TestCase("base: b.yaml\nseeds: [1\n", 3, 1, "not valid YAML")]
    public void Parse_Problem_ReportedAtFileLineColumn(string text, int line, int column, string message)
    {
        var error = Single(text);
        Assert.That((error.File, error.Line, error.Column), Is.EqualTo(("s.yaml", line, column)), error.ToString());
        Assert.That(error.Message, Does.Contain(message));
    }

    [Test]
    public void Parse_TooManyRuns_Refused()
    {
        var error = Single("base: b.yaml\ngrid:\n  a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nseeds: 1..20000\n");
        Assert.That(error.Message, Does.Contain("more than 100,000"));
    }

    [Test]
    public void ScenarioPath_StepsAndOverlap()
    {
        var path = ScenarioPath.TryParse("structops[0].globals.x", out _)!;
        Assert.That(path.Steps, Is.EqualTo(new[] { PathStep.Key("structops"), PathStep.At(0), PathStep.Key("globals"), PathStep.Key("x") }));
        Assert.That(path.Overlaps(ScenarioPath.TryParse("structops[0]", out _)!), Is.True);
        Assert.That(path.Overlaps(ScenarioPath.TryParse("structops[1].globals.x", out _)!), Is.False);
    }
}
