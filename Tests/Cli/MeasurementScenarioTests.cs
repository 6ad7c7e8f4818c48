using System.Text.Json;
using BpfSim.Studies;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The window, fairness, per-algorithm, one-way delay and FCT numbers of whole runs, against values worked out from the
/// network's own parameters (rates, delays, sizes) rather than from the code under test.
/// </summary>
[Category("Cli")]
public sealed class MeasurementScenarioTests
{
    private static JsonElement Run(string yaml, params string[] extra)
    {
        var (code, output, err) = CliRun.Invoke(["run", CliRun.Scenario(yaml), "--json", .. extra]);
        Assert.That(code, Is.Zero, err);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static JsonElement Flow(JsonElement summary, int id) => summary.GetProperty("flows")[id - 1];

    /// <summary>
    /// An application writing 86 full segments (86 × 1448 B) every 100 ms sends 9.962 Mbit/s; each burst is acknowledged
    /// some 33 ms after it is written, so a window from 2 s to 8 s holds exactly the 60 bursts written from 2.0 s to 7.9 s.
    /// </summary>
    [Test]
    public void WindowGoodput_ConstantRateFlow_EqualsItsRate()
    {
        var s = Run("""
            seed: 1
            duration: 10s
            measure_from: 2s
            measure_to: 8s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms }
            flows:
              - { count: 1, cc: cubic, start: 0s, burst: 124528B, interval: 100ms }
            """);
        double rate = 124528 * 8 / 0.1 / 1e6;
        var f = Flow(s, 1);
        Assert.That(f.GetProperty("window_goodput_mbps").GetDouble(), Is.EqualTo(rate).Within(0.001));
        Assert.That(f.GetProperty("window_bytes_acked").GetInt64(), Is.EqualTo(60L * 124528));
        Assert.That(f.GetProperty("window_active_s").GetDouble(), Is.EqualTo(6.0));
        Assert.That(s.GetProperty("window").GetProperty("from_s").GetDouble(), Is.EqualTo(2.0));
        Assert.That(s.GetProperty("window").GetProperty("to_s").GetDouble(), Is.EqualTo(8.0));
        var link = s.GetProperty("links")[0];
        Assert.That(link.GetProperty("utilization").GetDouble(), Is.EqualTo(rate / 100 * 1500 / 1448).Within(0.002),
            "busy for the wire bytes: 1500 per 1448 of payload at 100 Mbit/s");
        Assert.That(link.GetProperty("loss_rate").GetDouble(), Is.Zero);
        Assert.That(link.GetProperty("packets_arrived").GetInt64(), Is.EqualTo(60L * 86), "every data packet of the 60 bursts, once");
    }

    /// <summary>
    /// A lone 10 KB flow (7 segments, inside the initial window) on an idle 10 Mbit/s link with 24 ms of base RTT
    /// completes in the handshake's RTT, the last byte's RTT and the 10 KB at 10 Mbit/s: 2 × 24 + 8 = 56 ms, give or
    /// take the headers' and access links' serialisation, less than one 1500-byte packet time at 10 Mbit/s (1.2 ms).
    /// </summary>
    [Test]
    public void Fct_LoneSmallFlowOnIdleLink_EqualsTheAnalyticValueWithinAPacketTime()
    {
        var s = Run("""
            seed: 1
            duration: 2s
            network:
              bottleneck: { rate: 10Mbps, delay: 10ms }
              access: { rate: 1Gbps, delay: 1ms }
            flows:
              - { count: 1, cc: reno, start: 0s, size: 10KB }
            """);
        const double ideal = 2 * 24 + 10_000 * 8 / 10e6 * 1e3;
        var f = Flow(s, 1);
        Assert.That(f.GetProperty("fct_ms").GetDouble(), Is.EqualTo(ideal).Within(1500 * 8 / 10e6 * 1e3));
        Assert.That(f.GetProperty("slowdown").GetDouble(), Is.EqualTo(f.GetProperty("fct_ms").GetDouble() / ideal).Within(1e-3));
        var group = s.GetProperty("fct")[0];
        Assert.That(group.GetProperty("group").GetInt32(), Is.Zero, "the first flows entry");
        Assert.That(group.GetProperty("count").GetInt32(), Is.EqualTo(1));
        Assert.That(group.GetProperty("completed").GetInt32(), Is.EqualTo(1));
        Assert.That(group.GetProperty("p99_ms").GetDouble(), Is.EqualTo(f.GetProperty("fct_ms").GetDouble()));
        var bin = s.GetProperty("fct_bins")[0];
        Assert.That(bin.GetProperty("bin").GetString(), Is.EqualTo("<100KB"));
        Assert.That(bin.GetProperty("max_bytes").GetInt64(), Is.EqualTo(100_000));
    }

    /// <summary>
    /// A one-segment flow's data packet crosses the path alone: 12 ms of propagation (1 + 10 + 1 ms) plus its
    /// serialisation (1052 B at 10 Mbit/s, 0.84 ms, and twice at 1 Gbit/s), within the histogram's 1.6 %.
    /// </summary>
    [Test]
    public void OneWayDelay_LoneOneSegmentFlow_IsThePathsPropagationAndSerialisation()
    {
        var s = Run("""
            seed: 1
            duration: 1s
            network:
              bottleneck: { rate: 10Mbps, delay: 10ms }
              access: { rate: 1Gbps, delay: 1ms }
            flows:
              - { count: 1, cc: cubic, start: 0s, size: 1000B }
            """);
        double expected = 12 + 1052 * 8 / 10e6 * 1e3 + 2 * 1052 * 8 / 1e9 * 1e3;
        Assert.That(Flow(s, 1).GetProperty("owd_ms_p95").GetDouble(), Is.EqualTo(expected).Within(expected * 0.02));
        var cubic = s.GetProperty("by_algorithm")[0];
        Assert.That(cubic.GetProperty("owd_ms_p95").GetDouble(), Is.EqualTo(Flow(s, 1).GetProperty("owd_ms_p95").GetDouble()));
    }

    /// <summary>
    /// A flow that stopped before the window is left out of Jain's index: one flow alone in the window is perfectly
    /// fair (1), although over the whole run its goodput and the early flow's differ.
    /// </summary>
    [Test]
    public void Jain_FlowThatNeverRanInTheWindow_IsLeftOut()
    {
        var s = Run("""
            seed: 1
            duration: 6s
            measure_from: 3s
            network:
              bottleneck: { rate: 20Mbps, delay: 10ms, queue: { type: droptail, limit: 100 } }
            flows:
              - { count: 1, cc: reno, start: 0s }
              - { count: 1, cc: cubic, start: 0s, stop: 2s }
            """);
        Assert.That(Flow(s, 2).GetProperty("window_active_s").GetDouble(), Is.Zero);
        Assert.That(Flow(s, 2).GetProperty("window_goodput_mbps").GetDouble(), Is.Zero);
        Assert.That(s.GetProperty("fairness").GetProperty("jain").GetDouble(), Is.EqualTo(1.0));
        var algorithms = s.GetProperty("by_algorithm").EnumerateArray().ToList();
        Assert.That(algorithms.Select(a => a.GetProperty("cc").GetString()), Is.EqualTo(new[] { "reno" }), "cubic never ran in the window");
        Assert.That(algorithms[0].GetProperty("share").GetDouble(), Is.EqualTo(1.0));
    }

    /// <summary>
    /// Property (fixed seed, random mixes of algorithms, start times and windows): the algorithms' shares sum to 1, each
    /// share is its window bytes over all flows' window bytes, each goodput is its window bytes over the window, and
    /// Jain's index equals (Σx)²/(n·Σx²) over the window goodputs of the flows that ran in the window.
    /// </summary>
    [Test]
    public void ByAlgorithm_RandomMixes_SharesSumToOneAndGoodputsAreWindowBytes()
    {
        var random = new Bogus.Randomizer(31337);
        string[] algorithms = ["reno", "cubic", "bbr", "dctcp"];
        for (int trial = 0; trial < 3; trial++)
        {
            var flows = Enumerable.Range(0, random.Int(2, 4)).Select(_ =>
                $"  - {{ count: {random.Int(1, 3)}, cc: {random.ArrayElement(algorithms)}, start: {random.Int(0, 2000)}ms, stop: {random.Int(2500, 4000)}ms }}");
            int from = random.Int(0, 2000), to = random.Int(from + 500, 4000);
            var s = Run($"""
                seed: {trial + 1}
                duration: 4s
                measure_from: {from}ms
                measure_to: {to}ms
                network:
                  bottleneck: {"{"} rate: 20Mbps, delay: 5ms {"}"}
                flows:
                {string.Join("\n", flows)}
                """);
            string at = $"trial {trial}";
            var ran = s.GetProperty("flows").EnumerateArray().Where(f => f.GetProperty("window_active_s").GetDouble() > 0).ToList();
            double window = (to - from) / 1e3;
            long total = ran.Sum(f => f.GetProperty("window_bytes_acked").GetInt64());
            var by = s.GetProperty("by_algorithm").EnumerateArray().ToList();
            Assert.That(by.Sum(a => a.GetProperty("share").GetDouble()), Is.EqualTo(1.0).Within(1e-3), at);
            Assert.That(by.Sum(a => a.GetProperty("flows").GetInt32()), Is.EqualTo(ran.Count), at);
            foreach (var a in by)
            {
                string cc = a.GetProperty("cc").GetString()!;
                long bytes = ran.Where(f => f.GetProperty("cc").GetString() == cc).Sum(f => f.GetProperty("window_bytes_acked").GetInt64());
                Assert.That(a.GetProperty("goodput_mbps").GetDouble(), Is.EqualTo(bytes * 8 / window / 1e6).Within(1e-3), $"{at}: {cc}");
                Assert.That(a.GetProperty("share").GetDouble(), Is.EqualTo(bytes / (double)total).Within(1e-4), $"{at}: {cc}");
            }
            double[] x = [.. ran.Select(f => f.GetProperty("window_goodput_mbps").GetDouble())];
            double jain = x.Sum() * x.Sum() / (x.Length * x.Sum(v => v * v));
            Assert.That(s.GetProperty("fairness").GetProperty("jain").GetDouble(), Is.EqualTo(jain).Within(1e-4), at);
        }
    }

    /// <summary>More than 20 flows: a row per flows: entry (with counts and FCT percentiles) instead of one per flow.</summary>
    [Test]
    public void Terminal_ManyShortFlows_OneRowPerGroup()
    {
        var (code, output, err) = CliRun.Invoke("run", CliRun.Scenario("""
            seed: 1
            duration: 3s
            network:
              bottleneck: { rate: 50Mbps, delay: 5ms }
            flows:
              - { count: 1, cc: cubic, start: 0s }
              - { arrivals: poisson, rate: 30, size: 50KB, cc: reno, start: 0s, stop: 2s }
            """));
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("a row per flows: entry"));
        Assert.That(output, Does.Contain("flow completion times by size"));
        Assert.That(output, Does.Contain("<100KB"));
        var rows = output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^│\s+\d+\s+│")).ToList();
        Assert.That(rows, Has.Count.EqualTo(2), output);
    }

    /// <summary>
    /// A link update (selftest tcp_ca_update): flows opened before it adopted v1's map, flows opened after v2's; each says
    /// which, by map id, map name and the structops program that loaded it. A built-in flow names none.
    /// </summary>
    [Test]
    public void Flows_LinkUpdateRun_EachNamesTheMapItAdopted()
    {
        var (code, output, err) = CliRun.Invoke("run", Path.Combine(AppContext.BaseDirectory, "scenarios", "link_update.yaml"), "--json", "--duration", "14s");
        Assert.That(code, Is.Zero, err);
        var s = JsonDocument.Parse(output).RootElement;
        var flows = s.GetProperty("flows").EnumerateArray().ToList();
        List<JsonElement> Group(int g) => [.. flows.Where(f => f.GetProperty("group").GetInt32() == g)];
        Assert.That(Group(0).Select(f => f.GetProperty("map_program").GetString()), Is.EqualTo(new[] { "bpf_reno_link_v1", "bpf_reno_link_v1" }));
        Assert.That(Group(1).Select(f => f.GetProperty("map_program").GetString()), Is.EqualTo(new[] { "bpf_reno_link_v2", "bpf_reno_link_v2" }));
        int v1 = Group(0)[0].GetProperty("map_id").GetInt32(), v2 = Group(1)[0].GetProperty("map_id").GetInt32();
        Assert.That(v1, Is.Not.EqualTo(v2));
        var ids = s.GetProperty("struct_ops").EnumerateArray().Select(m => m.GetProperty("map_id").GetInt32()).ToList();
        Assert.That(ids, Does.Contain(v1).And.Contain(v2));
        var cubic = Group(2).Single();
        Assert.That(cubic.GetProperty("cc").GetString(), Is.EqualTo("cubic"));
        Assert.That(cubic.GetProperty("map_id").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var (_, text, _) = CliRun.Invoke("run", Path.Combine(AppContext.BaseDirectory, "scenarios", "link_update.yaml"), "--duration", "14s");
        Assert.That(text, Does.Contain($"struct_ops map {v1} (").And.Contain($"loaded by bpf_reno_link_v1): flows 1-2"));
        Assert.That(text, Does.Contain($"struct_ops map {v2} (").And.Contain($"loaded by bpf_reno_link_v2): flows 4-5"));
    }

    /// <summary>
    /// A --duration that ends the run before a structops entry's time: the entry is never registered, and a note says
    /// which (the file itself may not do this; the parser refuses it against the file's duration).
    /// </summary>
    [Test]
    public void StructOpsEntry_AfterAShorterDuration_IsNamedInANote()
    {
        var (code, output, err) = CliRun.Invoke("run", Path.Combine(AppContext.BaseDirectory, "scenarios", "link_update.yaml"), "--json", "--duration", "5s");
        Assert.That(code, Is.Zero, err);
        var notes = JsonDocument.Parse(output).RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.That(notes, Has.One.Contains("bpf_reno_link_v2 at 10s is not before the end of the run (5s): never registered"));
        Assert.That(notes, Has.None.Contains("bpf_reno_link_v1"), "v1 at 0s is registered");
    }

    [Test]
    public void FlowGroup_StartingAfterAShorterDuration_IsNamedInANote()
    {
        var s = Run("""
            duration: 10s
            flows:
              - { count: 1, cc: reno }
              - { count: 2, cc: cubic, start: 5s }
            """, "--duration", "4s");
        Assert.That(s.GetProperty("notes").EnumerateArray().Select(n => n.GetString()),
            Has.One.EqualTo("flows entry 2 (cubic) starts at 5s, not before the end of the run (4s): none of its flows opened"));
        Assert.That(s.GetProperty("flows").GetArrayLength(), Is.EqualTo(1));
    }

    /// <summary>A --duration shorter than the file's window clips the window to the run and says so.</summary>
    [Test]
    public void MeasureWindow_DurationShorterThanIt_ClippedToTheRunWithANote()
    {
        var s = Run("""
            duration: 10s
            measure_from: 1s
            measure_to: 8s
            flows:
              - { count: 1, cc: reno }
            """, "--duration", "4s");
        Assert.That(s.GetProperty("window").GetProperty("from_s").GetDouble(), Is.EqualTo(1.0));
        Assert.That(s.GetProperty("window").GetProperty("to_s").GetDouble(), Is.EqualTo(4.0));
        Assert.That(s.GetProperty("notes").EnumerateArray().Select(n => n.GetString()), Has.Some.Contains("the measurement window"));
        Assert.That(Flow(s, 1).GetProperty("window_active_s").GetDouble(), Is.EqualTo(3.0));
    }

    [TestCase("measure_from: 40s\n", 2, 15, "measure_from (40s) must be before the end of the run", TestName = "MeasureFrom_AfterTheEnd_RefusedAtItsValue")]
    [TestCase("measure_to: 40s\n", 2, 13, "measure_to (40s) must be at most the duration", TestName = "MeasureTo_AfterTheEnd_RefusedAtItsValue")]
    [TestCase("measure_from: 5s\nmeasure_to: 2s\n", 3, 13, "measure_to (2s) must be after measure_from (5s)", TestName = "MeasureWindow_Reversed_RefusedAtMeasureTo")]
    [TestCase("fct_bins: [1MB, 100KB]\n", 2, 17, "fct_bins must ascend", TestName = "FctBins_Descending_RefusedAtTheEdge")]
    [TestCase("fct_bins: 1MB\n", 2, 11, "fct_bins must be a list", TestName = "FctBins_NotAList_Refused")]
    [TestCase("fct_bins: []\n", 2, 11, "fct_bins is empty", TestName = "FctBins_Empty_Refused")]
    public void MeasurementKeys_BadValues_RefusedAtFileLineColumn(string keys, int line, int column, string reason)
    {
        string file = CliRun.Scenario("duration: 30s\n" + keys + "flows:\n  - { count: 1, cc: reno }\n");
        foreach (var command in new[] { "run", "validate" })
        {
            var (code, output, err) = CliRun.Invoke(command, file);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), $"{command}: {err}");
            Assert.That(err, Does.StartWith($"{file}:{line}:{column}: ").And.Contain(reason), command);
            Assert.That(output, Is.Empty, command);
        }
    }
}
