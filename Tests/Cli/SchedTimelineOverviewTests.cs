using BpfSim.Cli.Output;
using BpfSim.Core.Simulation;
using BpfSim.Studies.Output;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tests.Scheduler.Workloads;
using Spectre.Console;

namespace BpfSim.Tests.Cli;

/// <summary>
/// A run that keeps only its first timeline segments still draws all of its timeline: the terminal's strip and
/// report.html's overview take the rest from the run's overview, and agree with the same run keeping every segment.
/// </summary>
public sealed class SchedTimelineOverviewTests
{
    [Test]
    public void CappedRun_BucketsAsTheRunThatKeptEverySegment()
    {
        var spec = SchedWorkloadTests.Mixed();
        var full = SchedRunRig.Run(spec with { TimelineLimit = 10_000_000 });
        var capped = SchedRunRig.Run(spec with { TimelineLimit = 200 });
        Assert.That(full.Trace.TimelineDropped, Is.Zero);
        Assert.That(capped.Trace.TimelineDropped, Is.GreaterThan(1000));
        long end = spec.Duration.Nanoseconds;
        foreach (int columns in new[] { 72, 1000, 37 })
        {
            var a = TimelineBuckets.Of(full.Trace, 4, 0, end, columns);
            var b = TimelineBuckets.Of(capped.Trace, 4, 0, end, columns);
            Assert.That(b.Groups, Is.EqualTo(a.Groups));
            Assert.That(b.Overview, Is.Not.Null);
            Assert.That(a.Overview, Is.Null);
            int differ = 0;
            for (int cpu = 0; cpu < 4; cpu++)
            {
                for (int c = 0; c < columns; c++)
                {
                    var (ga, ba) = a.Dominant(cpu, c);
                    var (gb, bb) = b.Dominant(cpu, c);
                    Assert.That(bb, Is.EqualTo(ba).Within(0.02), $"{columns} columns: cpu {cpu}, column {c} busy");
                    differ += ga == gb ? 0 : 1;
                }
            }
            // Where two groups share a column almost equally, spreading an overview column evenly may tip it.
            Assert.That(differ, Is.LessThanOrEqualTo(4 * columns / 50), $"{columns} columns: dominant groups that differ");
        }
    }

    [Test]
    public void Terminal_CappedAllBusyRun_ShowsNoIdleColumn_AndSaysFromWhenItIsTheOverview()
    {
        var spec = new SchedScenarioSpec
        {
            Duration = SimTime.FromSeconds(2),
            Cpus = new CpuSpec { Count = 4 },
            TimelineLimit = 500,
            Tasks = [new TaskGroupSpec { Name = "hog", Count = 12 }],
        };
        var result = SchedRunRig.Run(spec);
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No });
        console.Profile.Width = 220;
        var summary = SchedRunSummary.From(spec, result, Manifest.For("x.yaml", "text", spec.Seed, []), []);
        SchedTerminal.Print(console, "x.yaml", spec, summary, result);
        string text = writer.ToString();
        var rows = text.Split('\n').Where(l => l.StartsWith("cpu ", StringComparison.Ordinal)).ToList();
        Assert.That(rows, Has.Count.EqualTo(4));
        Assert.That(rows.Where(r => r.Contains('·')), Is.Empty, "every CPU ran a hog all the run");
        Assert.That(text, Does.Contain("the first 500 segments kept").And.Contain("ms resolution"));
    }
}
