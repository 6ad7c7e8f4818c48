using System.Text.Json.Nodes;
using BpfSim.Studies;
using BpfSim.Studies.Runs;
using BpfSim.Studies.Traces;

namespace BpfSim.Tests.Studies.Traces;

/// <summary>
/// <c>--trace DIR</c> on real runs: a traced run is the untraced run, and its records agree with what the kernel-shaped
/// model reports (sampled cwnd, retransmissions, the bottleneck's drops and marks, the struct_ops lifecycle).
/// </summary>
[Category("Traces")]
public sealed class TraceRunTests
{
    // Drops at a drop-tail bottleneck; cubic, reno and bbr (cong_control), and a BPF cubic through struct_ops.
    private const string Competing = """
        seed: 3
        duration: 4s
        network:
          bottleneck: { rate: 100Mbps, delay: 8ms, queue: { type: droptail, limit: 60 } }
        structops:
          - { program: bpf_cubic, at: 0s }
        flows:
          - { count: 1, cc: cubic, start: 0s }
          - { count: 1, cc: reno, start: 0.1s }
          - { count: 1, cc: bpf_cubic, start: 0.2s }
          - { count: 1, cc: bbr, start: 0.3s }
        """;

    // CE marks at a step-marking queue, and the receiving sockets' DCTCP (ECN echo through cwnd_event).
    private const string Dctcp = """
        seed: 1
        duration: 3s
        network:
          bottleneck: { rate: 100Mbps, delay: 5ms, queue: { type: ecn_threshold, k: 20, limit: 250 } }
        flows:
          - { count: 2, cc: dctcp, start: 0s }
        """;

    // A struct_ops map registered, used, and unregistered while two flows still use it (INIT → INUSE → TOBEFREE).
    private const string Unregister = """
        seed: 1
        duration: 6s
        network:
          bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: droptail, limit: 250 } }
        structops:
          - { program: bpf_minimal, at: 0s, unregister_at: 3s }
        flows:
          - { count: 2, cc: bpf_minimal, start: 0s }
          - { count: 1, cc: bpf_minimal, start: 4s }
        """;

    private static readonly Study s_study = new();
    private static readonly Dictionary<string, (RunOutcome Outcome, string Dir)> s_runs = [];

    /// <summary>Runs <paramref name="yaml"/> traced (once per test run) and returns the outcome and the trace folder.</summary>
    internal static (RunOutcome Outcome, string Dir) Traced(string yaml)
    {
        lock (s_runs)
        {
            if (!s_runs.TryGetValue(yaml, out var run))
            {
                string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-trace-{Guid.NewGuid():N}");
                var outcome = s_study.Run(s_study.Parse(yaml), new RunSettings { TraceDirectory = dir });
                Assert.That(outcome.Errors, Is.Empty);
                s_runs[yaml] = run = (outcome, dir);
            }
            return run;
        }
    }

    internal static string CompetingScenario => Competing;

    private static IReadOnlyDictionary<string, IReadOnlyList<object?[]>> Records(string yaml) => TraceReader.ReadRecords(Traced(yaml).Dir);

    private static int Field(string type, string name)
    {
        var record = TraceSchema.Records.Single(r => r.Name == type);
        int i = record.Fields.ToList().FindIndex(f => f.Name == name);
        Assert.That(i, Is.GreaterThanOrEqualTo(0), $"{type}.{name}");
        return i;
    }

    private static string WithoutWallTime(string summary)
    {
        var node = JsonNode.Parse(summary)!.AsObject();
        Assert.That(node.Remove("wall_s"), Is.True);
        return node.ToJsonString();
    }

    [TestCase(Competing)]
    [TestCase(Dctcp)]
    [TestCase(Unregister)]
    public void TracedRun_SummaryEqualsUntracedRun_ExceptWallTime(string yaml)
    {
        var untraced = s_study.Run(s_study.Parse(yaml));
        var (traced, dir) = Traced(yaml);
        Assert.That(WithoutWallTime(traced.SummaryJson), Is.EqualTo(WithoutWallTime(untraced.SummaryJson)));
        Assert.That(Directory.GetFiles(dir, "flow-*.msgpack"), Has.Length.EqualTo(traced.Tcp!.Flows.Count));
    }

    [Test]
    public void AckRecords_Cwnd_IsTheSampledCwndAtEachSample()
    {
        var (outcome, _) = Traced(Competing);
        var records = Records(Competing);
        int flowAt = Field("ack", "flow"), cwndAt = Field("ack", "cwnd");
        // Every record that carries the sender's cwnd, in the order written: acks, sends and the sender's ca calls.
        var (_, dir) = Traced(Competing);
        int caReceiverAt = Field("ca", "receiver"), caCwndAt = Field("ca", "cwnd_after"), sendCwndAt = Field("send", "cwnd");
        var timeline = outcome.Tcp!.Flows.ToDictionary(f => f.Id, f => TraceReader.ReadFile(Path.Combine(dir, TraceSchema.FlowFile(f.Id)))
            .Where(r => (long)r[0]! != TraceSchema.Ca || !(bool)r[caReceiverAt]!)
            .Select(r => (T: (long)r[1]!, Cwnd: (long)r[(long)r[0]! switch { TraceSchema.Ack => cwndAt, TraceSchema.Send => sendCwndAt, _ => caCwndAt }]!))
            .ToList());
        int compared = 0;
        foreach (var flow in outcome.Tcp!.Flows)
        {
            var events = timeline[flow.Id];
            Assert.That(records["ack"].Count(r => (long)r[flowAt]! == flow.Id), Is.GreaterThan(100));
            foreach (var (t, cwnd) in outcome.Tcp.Samples.Flow(flow.Id - 1, "cwnd"))
            {
                long ns = (long)Math.Round(t * 1e9);
                if (events.Any(e => e.T == ns))
                {
                    continue; // the sample and an event at the same instant: either may have run first
                }
                int last = events.FindLastIndex(e => e.T < ns);
                Assert.That(last, Is.GreaterThanOrEqualTo(0));
                Assert.That(events[last].Cwnd, Is.EqualTo((long)cwnd), $"flow {flow.Id} at {t} s");
                compared++;
            }
        }
        Assert.That(compared, Is.GreaterThan(100));
        Assert.That(records["ack"].Select(r => (long)r[cwndAt]!).Distinct().Count(), Is.GreaterThan(10));
    }

    [Test]
    public void SendRecords_Retransmissions_EqualEachFlowsRetransmits()
    {
        var (outcome, _) = Traced(Competing);
        var sends = Records(Competing)["send"];
        int flowAt = Field("send", "flow"), retransmitAt = Field("send", "retransmit"), lenAt = Field("send", "len");
        Assert.That(outcome.Tcp!.Flows.Sum(f => f.Retransmits), Is.GreaterThan(0), "the scenario loses packets");
        foreach (var flow in outcome.Tcp.Flows)
        {
            Assert.That(sends.Count(r => (long)r[flowAt]! == flow.Id && (bool)r[retransmitAt]!), Is.EqualTo(flow.Retransmits), $"flow {flow.Id}");
        }
        Assert.That(sends.Select(r => (long)r[lenAt]!), Has.All.InRange(1, 1448));
    }

    [Test]
    public void QueueRecords_DropsAtTheBottleneck_EqualItsDrops()
    {
        var (outcome, _) = Traced(Competing);
        var queue = Records(Competing)["queue"];
        int linkAt = Field("queue", "link"), eventAt = Field("queue", "event");
        var bottleneck = outcome.Tcp!.Links.Single();
        Assert.That(bottleneck.Drops, Is.GreaterThan(0));
        Assert.That(queue.Count(r => (string)r[linkAt]! == bottleneck.Name && (string)r[eventAt]! == "drop"), Is.EqualTo(bottleneck.Drops));
        Assert.That(queue.Where(r => (string)r[eventAt]! == "drop").Select(r => (long)r[Field("queue", "queue_packets")]!), Has.All.EqualTo(60));
    }

    [Test]
    public void QueueRecords_Marks_EqualTheBottlenecksEcnMarks_AndReceiversCaCallsAreTraced()
    {
        var (outcome, _) = Traced(Dctcp);
        var records = Records(Dctcp);
        var bottleneck = outcome.Tcp!.Links.Single();
        Assert.That(bottleneck.EcnMarks, Is.GreaterThan(0));
        Assert.That(records["queue"].Count(r => (string)r[Field("queue", "event")]! == "mark"), Is.EqualTo(bottleneck.EcnMarks));
        var receiverEvents = records["ca"].Where(r => (bool)r[Field("ca", "receiver")]! && (string)r[Field("ca", "member")]! == "cwnd_event").ToList();
        Assert.That(receiverEvents.Select(r => (long)r[Field("ca", "arg0")]!).Distinct().Order(), Is.EqualTo(new long[] { 4, 5 }), "ECN_NO_CE and ECN_IS_CE");
    }

    [Test]
    public void CaRecords_CoverTheHooksCalled_WithWhatTheyChanged()
    {
        var records = Records(Competing)["ca"];
        int memberAt = Field("ca", "member"), flowAt = Field("ca", "flow"), receiverAt = Field("ca", "receiver");
        var senders = records.Where(r => !(bool)r[receiverAt]!).ToList();
        var byFlow = senders.GroupBy(r => (long)r[flowAt]!).ToDictionary(g => g.Key, g => g.Select(r => (string)r[memberAt]!).ToHashSet());
        Assert.That(byFlow[1], Is.SupersetOf(new[] { "init", "cong_avoid", "ssthresh", "set_state", "cwnd_event", "pkts_acked" }), "cubic");
        Assert.That(byFlow[4], Does.Contain("cong_control").And.Not.Contain("cong_avoid"), "bbr");
        // ssthresh returns what the stack then assigns; cong_avoid grows cwnd in place.
        var ssthresh = senders.First(r => (string)r[memberAt]! == "ssthresh" && (long)r[flowAt]! == 1);
        Assert.That((long)ssthresh[Field("ca", "ret")]!, Is.LessThan((long)ssthresh[Field("ca", "cwnd_before")]!));
        Assert.That(senders.Any(r => (string)r[memberAt]! == "cong_avoid" && (long)r[Field("ca", "cwnd_after")]! > (long)r[Field("ca", "cwnd_before")]!));
    }

    [Test]
    public void StructOpsRecords_FollowInitInUseToBeFree_AsTheSummarysTimeline()
    {
        var (outcome, _) = Traced(Unregister);
        var records = Records(Unregister)["struct_ops"];
        int stateAt = Field("struct_ops", "state"), refAt = Field("struct_ops", "refcnt");
        var states = records.Select(r => (string)r[stateAt]!).Where((s, i) => i == 0 || s != (string)records[i - 1][stateAt]!).ToList();
        Assert.That(states, Is.EqualTo(new[] { "INIT", "INUSE", "TOBEFREE" }));
        // The trace holds the timeline up to the run's end; the summary's goes on through the teardown after it.
        var timeline = outcome.Tcp!.StructOps.Single().Timeline;
        Assert.That(records, Has.Count.InRange(4, timeline.Count));
        Assert.That(records.Select(r => ((long)r[1]!, (string)r[stateAt]!, (long)r[refAt]!)),
            Is.EqualTo(timeline.Take(records.Count).Select(e => (e.Time.Nanoseconds, e.StateName, e.RefCount))));
        Assert.That(records.Max(r => (long)r[refAt]!), Is.EqualTo(3), "the registration and two sockets");
    }

    [Test]
    public void SchemaJson_IsTheSchema_AndEveryRecordHasItsTypesShape()
    {
        var (_, dir) = Traced(Competing);
        Assert.That(File.ReadAllText(Path.Combine(dir, TraceSchema.SchemaFile)), Is.EqualTo(TraceSchema.ToJson()));
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, TraceSchema.SchemaFile)))!;
        foreach (var (name, list) in Records(Competing))
        {
            var type = schema["records"]!.AsArray().Single(r => (string)r!["name"]! == name)!;
            var fields = type["fields"]!.AsArray();
            Assert.That(list, Is.Not.Empty, name);
            Assert.That(list.Select(r => r.Length), Has.All.EqualTo(fields.Count), name);
            Assert.That(list.Select(r => (long)r[0]!), Has.All.EqualTo((long)type["code"]!), name);
            for (int i = 0; i < fields.Count; i++)
            {
                string kind = (string)fields[i]!["type"]!;
                Type expected = kind == "boolean" ? typeof(bool) : kind == "string" ? typeof(string) : typeof(long);
                Assert.That(list.Select(r => r[i]!.GetType()), Has.All.EqualTo(expected), $"{name}.{fields[i]!["name"]}");
            }
            foreach (var file in list.GroupBy(r => name is "queue" or "struct_ops" ? 0 : (long)r[2]!))
            {
                Assert.That(file.Select(r => (long)r[1]!), Is.Ordered, $"{name}: time order in each file");
            }
        }
    }
}
