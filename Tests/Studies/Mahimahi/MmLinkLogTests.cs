using System.Text.RegularExpressions;
using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Studies.Mahimahi;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Studies.Mahimahi;

/// <summary>
/// The mm-link logs <c>--out</c> writes, checked for structure against mm-link's format (mahimahi
/// src/frontend/link_queue.cc, mm-link(1), and what scripts/mm-throughput-graph accepts) and, line kind by line kind,
/// against the link's own counters.
/// </summary>
[Category("Studies")]
public sealed partial class MmLinkLogTests
{
    private static readonly Study s_study = new();

    /// <summary>The counters of a link at the end of the run (which goes on a little after, for the frees).</summary>
    private sealed record Counters(long CapacityBytes, long PacketsSent, long BytesSent, long QueueDrops, int QueueLength, long QueueBytes);

    /// <summary>Keeps the run's links' counters as they are at the end of the run.</summary>
    private sealed class Keep : ITcpRunObserver
    {
        private Network? _network;
        public readonly Dictionary<string, Counters> AtEnd = [];

        public void Attach(TcpRunContext run) => _network = run.Network;

        public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
        {
        }

        public void Finish(SimTime end)
        {
            foreach (var l in _network!.Links)
            {
                AtEnd[l.Name] = new Counters(l.Stats.CapacityBytes, l.Stats.PacketsSent, l.Stats.BytesSent, l.Stats.QueueDrops, l.Queue.Length, l.Queue.Bytes);
            }
        }
    }

    private sealed record Line(long Ms, char Kind, long A, long B);

    [GeneratedRegex(@"^(\d+) ([+#]) (\d+)$|^(\d+) ([-d]) (\d+) (\d+)$")]
    private static partial Regex EventLine();

    /// <summary>The header lines and events of a log; every other line fails the test.</summary>
    private static (List<string> Header, List<Line> Events) Read(string path)
    {
        var header = new List<string>();
        var events = new List<Line>();
        foreach (var text in File.ReadLines(path))
        {
            if (text.StartsWith('#'))
            {
                Assert.That(events, Is.Empty, "header lines come first");
                header.Add(text);
                continue;
            }
            var m = EventLine().Match(text);
            Assert.That(m.Success, Is.True, $"not an mm-link log line: '{text}'");
            events.Add(m.Groups[1].Success
                ? new Line(long.Parse(m.Groups[1].Value), m.Groups[2].Value[0], long.Parse(m.Groups[3].Value), -1)
                : new Line(long.Parse(m.Groups[4].Value), m.Groups[5].Value[0], long.Parse(m.Groups[6].Value), long.Parse(m.Groups[7].Value)));
        }
        return (header, events);
    }

    private static (TcpRunResult Result, IReadOnlyDictionary<string, Counters> Links, string Dir) Run(TcpScenarioSpec spec, bool log = true)
    {
        string dir = Path.Combine(Path.GetTempPath(), "bpfsim-mmlog-" + Guid.NewGuid().ToString("N"));
        var keep = new Keep();
        ITcpRunObserver[] observers = log ? [keep, new MmLinkLogs(dir, "bpfsim run test.yaml")] : [keep];
        var result = new TcpScenarioRunner(spec, s_study.Factory.Create(), s_study.Catalog, observers).Run();
        return (result, keep.AtEnd, dir);
    }

    private static TcpScenarioSpec TraceSpec() => new()
    {
        Duration = SimTime.FromSeconds(6),
        Network = new NetworkSpec
        {
            Mahimahi = DeliveryTraceGenerator.Steps([(1_000, 24_000_000), (2_000, 6_000_000)], "x.down"),
            MahimahiUp = DeliveryTraceGenerator.Constant(2_000_000, 1_000, "x.up"),
            BottleneckDelay = SimTime.FromMilliseconds(10),
            Queue = new QueueSpec { Limit = 20 },
        },
        Flows = [new FlowSpec { Cc = "cubic", Count = 2 }],
    };

    [Test]
    public void TraceDrivenLink_Log_HasMmLinksHeader_AndLineKinds_InTimeOrder()
    {
        var (_, _, dir) = Run(TraceSpec());
        Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "bottleneck.mmlog", "bottleneck_rev.mmlog" }));
        var (header, events) = Read(Path.Combine(dir, "bottleneck.mmlog"));
        Assert.That(header, Is.EqualTo(new[]
        {
            "# mahimahi mm-link (bottleneck) [x.down] > bottleneck.mmlog",
            "# command line: bpfsim run test.yaml",
            "# queue: droptail [packets=20]",
            "# init timestamp: 0",
            "# base timestamp: 0",
        }));
        Assert.That(events.Select(e => e.Ms), Is.Ordered, "times never go back");
        Assert.That(events.Select(e => e.Kind).Distinct().Order(), Is.EqualTo(new[] { '#', '+', '-', 'd' }));
        Assert.That(events.Where(e => e.Kind == '#').Select(e => e.A), Is.All.EqualTo(1504));
        foreach (var d in events.Where(e => e.Kind == '-'))
        {
            Assert.That(d.B, Is.InRange(0, d.Ms), "a departure's delay is not negative and not before the log starts");
        }
        Directory.Delete(dir, true);
    }

    [TestCase(QueueKind.DropTail)]
    [TestCase(QueueKind.Codel)] // CoDel drops at dequeue, from inside the queue: those are `d` lines too
    public void TraceDrivenLink_Log_AddsUpToTheLinksCounters(QueueKind kind)
    {
        var spec = TraceSpec();
        spec = spec with { Network = spec.Network with { Queue = kind == QueueKind.Codel ? new QueueSpec { Kind = QueueKind.Codel, Limit = 1000 } : spec.Network.Queue } };
        var (_, net, dir) = Run(spec);
        foreach (var name in new[] { "bottleneck", "bottleneck_rev" })
        {
            var link = net[name];
            var (_, events) = Read(Path.Combine(dir, name + ".mmlog"));
            long Count(char k) => events.Count(e => e.Kind == k);
            long Sum(char k, Func<Line, long> f) => events.Where(e => e.Kind == k).Sum(f);
Assert.That(Count('#') * DeliveryTrace.OpportunityBytes, Is.EqualTo(link.CapacityBytes), name);
            Assert.That(Count('-'), Is.EqualTo(link.PacketsSent), name);
            Assert.That(Sum('-', e => e.A), Is.EqualTo(link.BytesSent + 4 * link.PacketsSent), $"{name}: bytes as mm-link counts them (IP + 4)");
            Assert.That(Sum('d', e => e.A), Is.EqualTo(link.QueueDrops), name);
            long waiting = Count('+') - Count('-') - Sum('d', e => e.A);
            Assert.That(waiting - link.QueueLength, Is.InRange(0, 1), $"{name}: arrivals = departures + drops + queued (+ the packet in transit)");
            Assert.That(Sum('+', e => e.A) - Sum('-', e => e.A) - Sum('d', e => e.B), Is.GreaterThanOrEqualTo(link.QueueBytes + 4 * link.QueueLength), name);
        }
        Assert.That(net["bottleneck"].QueueDrops, Is.GreaterThan(0), "the run should drop, to test drop lines");
        Directory.Delete(dir, true);
    }

    [Test]
    public void FixedRateLink_Log_WritesItsCapacity_AsOpportunitiesAtItsRate_FollowingChanges()
    {
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromSeconds(4),
            Network = new NetworkSpec
            {
                BottleneckRateBps = 24_000_000,
                Changes = [new LinkChange(SimTime.FromSeconds(2), RateBps: 6_000_000)],
            },
            Flows = [new FlowSpec { Cc = "reno" }],
        };
        var (_, net, dir) = Run(spec);
        Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EqualTo(new[] { "bottleneck.mmlog" }), "the reverse direction has no trace and is not reported");
        var (header, events) = Read(Path.Combine(dir, "bottleneck.mmlog"));
        Assert.That(header[0], Is.EqualTo("# mahimahi mm-link (bottleneck) [fixed rate 6Mbps] > bottleneck.mmlog").Or.StartsWith("# mahimahi mm-link (bottleneck) [fixed rate 24"));
        Assert.That(events.Select(e => e.Ms), Is.Ordered);
        // One 1504-byte opportunity per 1500-byte packet time: 2000 per second at 24 Mbit/s, 500 at 6 Mbit/s.
        var perSecond = Enumerable.Range(0, 4).Select(s => events.Count(e => e.Kind == '#' && e.Ms / 1000 == s)).ToList();
        // The first completes at 0.5 ms, so second 0 has 1999 (the 2000th is at 1000 ms); the one due at 2 s, when the
        // rate changes, is the last at 24 Mbit/s.
        Assert.That(perSecond, Is.EqualTo(new[] { 1999, 2000, 500, 500 }));
        var link = net["bottleneck"];
        long departures = events.Count(e => e.Kind == '-');
        Assert.That(link.PacketsSent - departures, Is.InRange(0, 1), "the packet still on the wire at the end is not written");
        Directory.Delete(dir, true);
    }

    [Test]
    public void Logging_NeverChangesTheRun()
    {
        var (with, _, dir) = Run(TraceSpec());
        var (without, _, _) = Run(TraceSpec(), log: false);
        Assert.That(with.Flows.Select(f => f.BytesAcked), Is.EqualTo(without.Flows.Select(f => f.BytesAcked)));
        Assert.That(with.Links, Is.EqualTo(without.Links));
        Assert.That(with.Events, Is.EqualTo(without.Events));
        Directory.Delete(dir, true);
    }

    [Test]
    public void FixedRateLinkThatNeverChanges_GetsNoLog()
    {
        var spec = new TcpScenarioSpec { Duration = SimTime.FromSeconds(1), Flows = [new FlowSpec { Cc = "reno" }] };
        var (_, _, dir) = Run(spec);
        Assert.That(Directory.Exists(dir) ? Directory.GetFiles(dir) : [], Is.Empty);
        Assert.That(MmLinkLogs.FileNames(spec), Is.Empty);
        Assert.That(MmLinkLogs.FileNames(TraceSpec()), Is.EqualTo(new[] { "bottleneck.mmlog", "bottleneck_rev.mmlog" }));
    }

    [Test]
    public void RunOut_WithATrace_WritesAndListsTheLogs()
    {
        string scenario = BpfSim.Tests.Cli.CliRun.Scenario(
            "duration: 2s\nnetwork:\n  bottleneck: { mahimahi: t.down, mahimahi_up: t.down, delay: 5ms }\nflows: [ { cc: cubic } ]\n");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(scenario)!, "t.down"), "1\n");
        string dir = Path.Combine(Path.GetTempPath(), "bpfsim-mmlog-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = BpfSim.Tests.Cli.CliRun.Invoke("run", scenario, "--out", dir);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("report.html, bottleneck.mmlog, bottleneck_rev.mmlog to"));
        var (header, events) = Read(Path.Combine(dir, "bottleneck.mmlog"));
        Assert.That(header[0], Is.EqualTo("# mahimahi mm-link (bottleneck) [t.down] > bottleneck.mmlog"));
        Assert.That(header[1], Is.EqualTo($"# command line: bpfsim run {scenario}"));
        // 12 Mbit/s for 2 s: the opportunities at 1 … 2000 ms.
        Assert.That(events.Count(e => e.Kind == '#'), Is.EqualTo(2000));
        Directory.Delete(dir, true);
    }
}
