using BpfSim.Cli.Output;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Metrics;
using BpfSim.Studies.Output;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tests.Scheduler.Workloads;
using Spectre.Console;

namespace BpfSim.Tests.Cli;

/// <summary>
/// A run that keeps only its first timeline segments still draws all of its timeline: the terminal's strip and
/// report.html's overview take the rest from the run's overview, and agree with the same run keeping every segment;
/// the segments of the detail's window after the first scheduler's start are kept past the limit.
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

    [Test]
    public void Metrics_PastTheLimit_KeepTheWindowsSegments_AndPutTheOthersInTheOverview()
    {
        var m = new SchedMetrics(1, timelineLimit: 2);
        m.StartOverview(1000, ["a", "b"]);
        m.AddTask(0, null);
        m.AddTask(1, null);
        m.SetTaskGroup(0, 0);
        m.SetTaskGroup(1, 1);
        m.KeepWindow(500, 600);
        for (int i = 0; i < 10; i++)
        {
            m.Switch(0, i == 0 ? -1 : (i - 1) % 2, i % 2, 0, false, i * 100);
        }
        m.Finish(1000);
        var o = m.Overview!;
        double Sum(int slot) => Enumerable.Range(0, o.Columns).Sum(c => o.Ns(0, c, slot));
        Assert.Multiple(() =>
        {
            Assert.That(m.Timeline.Select(x => (x.StartNs, x.EndNs, x.Task)), Is.EqualTo(new[] { (0L, 100L, 0), (100L, 200L, 1), (500L, 600L, 1) }));
            Assert.That(m.TimelineDropped, Is.EqualTo(7));
            Assert.That(Sum(0), Is.EqualTo(400), "task 0's 200-300, 400-500, 600-700, 800-900");
            Assert.That(Sum(1), Is.EqualTo(300), "task 1's 300-400, 700-800, 900-1000 (500-600 was kept)");
            Assert.That(o.FirstNs, Is.EqualTo(200));
        });
    }

    [Test]
    public void SchedulerStartingAfterTheLimitFilled_TheDetailStillHasItsSegments()
    {
        var catalog = new ConsumerCatalog();
        catalog.Add(typeof(ScxSimple), "built-in");
        var spec = SchedRunRig.Spec(4, SimTime.FromSeconds(2),
            new TaskGroupSpec { Name = "hog", Count = 6 },
            SchedRunRig.SleepWake("web", 20, 2e5, 2e6)) with
        {
            StructOps = [new StructOpsEntry { Program = "scx_simple", At = SimTime.FromSeconds(1) }],
            TimelineLimit = 300,
        };
        var r = SchedScenarioRunner.Run(spec, () => new BpfSystem(), catalog);
        var window = r.Trace.Timeline.Skip(300).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(r.Trace.Timeline.Take(300).Max(x => x.EndNs), Is.LessThan(1_000_000_000L), "the limit filled before the scheduler started");
            Assert.That(window, Is.Not.Empty);
            Assert.That(window.All(x => x.EndNs > 1_000_000_000L && x.StartNs < 1_050_000_000L), Is.True, "only the window's segments past the limit");
            Assert.That(window.Any(x => x.Task >= 0 && x.Class == 1), Is.True, "tasks ran in the ext class in it");
        });
        var summary = SchedRunSummary.From(spec, r, Manifest.For("x.yaml", "text", spec.Seed, []), []);
        string detail = SchedTimelineSvg.Detail(spec, summary, r);
        Assert.That(detail, Does.Contain("Detail: every segment from 1 s to 1.05 s"));
    }
}
