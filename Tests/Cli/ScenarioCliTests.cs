using BpfSim.Studies;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Cli;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>bpfsim run / validate on scenario files: results, outputs, determinism, and every kind of mistake.</summary>
[Category("Cli")]
public sealed class ScenarioCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = BpfSimCommand.Invoke(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Scenario(string yaml)
    {
        string path = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string Small = """
        seed: 3
        duration: 3s
        network:
          bottleneck: { rate: 50Mbps, delay: 5ms, queue: { type: droptail, limit: 100 } }
        flows:
          - { count: 2, cc: cubic, start: 0s }
          - { count: 1, cc: reno, start: 0.5s, size: 2MB }
        """;

    [Test]
    public void Run_DefaultScenario_PrintsFlowsLinksFairnessAndStructOps()
    {
        var (code, output, err) = Run("run", "--duration", "4s");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("flows").And.Contain("bpf_dctcp_c").And.Contain("bottleneck").And.Contain("Jain").And.Contain("struct_ops"));
        Assert.That(output, Does.Not.Contain("\u001b["));
    }

    [Test]
    public void Run_Json_HasTheSummaryShape_AndIsDeterministic()
    {
        string file = Scenario(Small);
        static JsonNode Strip(string json)
        {
            var node = JsonNode.Parse(json)!;
            node.AsObject().Remove("wall_s");
            return node;
        }
        var a = Run("run", file, "--json");
        var b = Run("run", file, "--json");
        Assert.That(a.Code, Is.Zero, a.Err);
        Assert.That(Strip(b.Out).ToJsonString(), Is.EqualTo(Strip(a.Out).ToJsonString()));
        using var doc = JsonDocument.Parse(a.Out);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("seed").GetUInt64(), Is.EqualTo(3));
        Assert.That(root.GetProperty("subsystem").GetString(), Is.EqualTo("tcp"));
        Assert.That(root.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(3));
        var flows = root.GetProperty("flows");
        Assert.That(flows.GetArrayLength(), Is.EqualTo(3));
        foreach (var key in new[] { "id", "cc", "start_s", "end_s", "bytes_acked", "goodput_mbps", "rtt_ms_mean", "retransmits", "timeouts" })
        {
            Assert.That(flows[0].TryGetProperty(key, out _), key);
        }
        Assert.That(flows[2].GetProperty("bytes_acked").GetInt64(), Is.EqualTo(2_000_000), "the sized flow completed");
        var link = root.GetProperty("links")[0];
        Assert.That(link.GetProperty("name").GetString(), Is.EqualTo("bottleneck"));
        Assert.That(link.GetProperty("utilization").GetDouble(), Is.GreaterThan(0.8));
        Assert.That(root.GetProperty("fairness").GetProperty("jain").GetDouble(), Is.EqualTo(FairnessScenarioTests.JainOfGoodputs(root)).Within(1e-4),
            "Jain's index over the flows' goodputs");
        Assert.That(root.GetProperty("manifest").GetProperty("scenario_sha256").GetString(), Has.Length.EqualTo(64));
    }

    [Test]
    public void Run_Out_WritesSummaryFlowsTimeseriesAndStructOps()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-out-{Guid.NewGuid():N}");
        var (code, _, err) = Run("run", "--duration", "3s", "--out", dir, "--quiet");
        Assert.That(code, Is.Zero, err);
        Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "summary.json", "flows.csv", "timeseries.csv", "struct_ops.json", "report.html" }));
        var series = File.ReadAllLines(Path.Combine(dir, "timeseries.csv"));
        Assert.That(series[0], Is.EqualTo("t_s,flow,metric,value,unit,kind,cc"));
        Assert.That(series, Has.Some.Contains(",cwnd,").And.Some.Contains(",packets").And.Some.Contains("bottleneck,queue,"));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "flows.csv"))[0], Does.StartWith("id,cc,cc_requested,start_s,end_s,bytes_acked,goodput_mbps"));
        using var so = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "struct_ops.json")));
        Assert.That(so.RootElement.GetProperty("dump")[1].TryGetProperty("bpf_struct_ops_tcp_congestion_ops", out _));
        Assert.That(so.RootElement.GetProperty("timeline")[0].GetProperty("transitions").GetArrayLength(), Is.GreaterThanOrEqualTo(2));
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void TimeSeriesFlows_SamplesTheFirstFlows_KeepsEveryFlowInTheSummary_AndSaysSo()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-out-{Guid.NewGuid():N}");
        var (code, _, err) = Run("run", Scenario("timeseries_flows: 2\n" + Small), "--out", dir, "--quiet");
        Assert.That(code, Is.Zero, err);
        var flowSubjects = File.ReadAllLines(Path.Combine(dir, "timeseries.csv")).Skip(1).Select(l => l.Split(','))
            .Where(c => c[5] == "flow").Select(c => c[1]).Distinct().ToList();
        Assert.That(flowSubjects, Is.EquivalentTo(new[] { "1", "2" }));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "flows.csv")), Has.Length.EqualTo(4), "a header and every flow");
        Assert.That(File.ReadAllText(Path.Combine(dir, "summary.json")), Does.Contain("time series sample the first 2 of 3 flows (timeseries_flows)"));
        Directory.Delete(dir, recursive: true);

        var (code2, json, err2) = Run("run", Scenario(Small), "--json");
        Assert.That(code2, Is.Zero, err2);
        Assert.That(json, Does.Not.Contain("timeseries_flows"), "no note while every flow is sampled");
    }

    [Test]
    public void Validate_GoodScenario_Ok()
    {
        var (code, output, _) = Run("validate", Scenario(Small));
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain(": ok"));
    }

    private static IEnumerable<TestCaseData> Broken()
    {
        yield return new TestCaseData("duration: 3s\nflows: [ { cc: cubic } ]\nbogus: 1\n", 3, 1, "unknown key 'bogus'").SetName("UnknownKey");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: vegas }\n", 3, 11, "unknown congestion control 'vegas'").SetName("UnknownAlgorithm");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: bpf_dctcp }\n", 3, 11, "no structops entry registers").SetName("ConsumerNotRegistered");
        yield return new TestCaseData("duration: 3s\nstructops:\n  - { program: nope_cc, at: 0s }\nflows: [ { cc: reno } ]\n", 3, 16, "unknown consumer 'nope_cc'").SetName("UnknownConsumer");
        yield return new TestCaseData("duration: -3s\nflows: [ { cc: reno } ]\n", 1, 11, "duration").SetName("NegativeDuration");
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { rate: 100 }\nflows: [ { cc: reno } ]\n", 3, 23, "needs a unit").SetName("RateWithoutUnit");
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { rate: 0Mbps }\nflows: [ { cc: reno } ]\n", 3, 23, "greater than 0").SetName("ZeroRate");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: reno, count: two }\n", 3, 24, "not a whole number").SetName("WrongType");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: reno, start: 2s, stop: 1s }\n", 3, 34, "must be after start").SetName("StopBeforeStart");
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { queue: { type: fifo } }\nflows: [ { cc: reno } ]\n", 3, 32, "unknown queue type 'fifo'").SetName("UnknownQueue");
        yield return new TestCaseData("duration: 3s\nflows: [ { cc: reno, size: 10 } ]\n", 2, 28, "size").SetName("SizeWithoutUnit");
        // Each qdisc's times in the units its netlink attributes carry: CoDel's 1.024 µs, pie's and fq's microseconds.
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { queue: { type: codel, target: 1us } }\nflows: [ { cc: reno } ]\n", 3, 47,
            "target must be between 1.024us and").SetName("CodelTargetBelowItsUnit");
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { queue: { type: pie, target: 500ns } }\nflows: [ { cc: reno } ]\n", 3, 45,
            "target must be between 1us and 4294.967295s").SetName("PieTargetBelowAMicrosecond");
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { queue: { type: fq, ce_threshold: 5000s } }\nflows: [ { cc: reno } ]\n", 3, 50,
            "ce_threshold must be between 1us and 4294.967295s").SetName("FqCeThresholdBeyondU32Microseconds");
        yield return new TestCaseData("duration: 3s\nflows: [ { arrivals: poisson, cc: reno } ]\n", 2, 10, "poisson arrivals need rate").SetName("PoissonWithoutRate");
        yield return new TestCaseData("duration: 3s\nflows: [ { cc: reno\n", 3, 1, "not valid YAML").SetName("SyntaxError");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: reno }\n  \t- { cc: cubic }\n", 4, 3, "invalid tab as indentation").SetName("TabIndentation_AtTheTab");
        yield return new TestCaseData("duration: 3s\nnetwork:\n  bottleneck: { loss: 1.5 }\nflows: [ { cc: reno } ]\n", 3, 23, "at most 1").SetName("LossAboveOne");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: reno, burst: 100KB }\n", 3, 24, "burst and interval go together").SetName("BurstWithoutInterval");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { cc: reno, burst: 0KB, interval: 1s }\n", 3, 24, "burst must be greater than 0").SetName("ZeroBurst");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { arrivals: poisson, rate: 5, size: 10KB, burst: 1KB, interval: 1s }\n", 3, 54, "do not apply to poisson").SetName("BurstWithPoisson");
        yield return new TestCaseData("duration: 3s\nreceiver_cc: bpf_dctcp\nflows: [ { cc: reno } ]\n", 2, 14, "receiver_cc must be a built-in algorithm").SetName("ReceiverCcNotBuiltin");
        yield return new TestCaseData("duration: 3s\necn: 3\nflows: [ { cc: reno } ]\n", 2, 6, "0, 1 or 2").SetName("EcnOutOfRange");
        yield return new TestCaseData("duration: 3s\ntcp_recovery: 8\nflows: [ { cc: reno } ]\n", 2, 15, "0 to 7").SetName("TcpRecoveryOutOfRange");
        yield return new TestCaseData("duration: 3s\ntcp_recovery: rack\nflows: [ { cc: reno } ]\n", 2, 15, "not a whole number").SetName("TcpRecoveryNotANumber");
        yield return new TestCaseData("duration: 3s\ntcp_frto: 3\nflows: [ { cc: reno } ]\n", 2, 11, "0, 1 or 2").SetName("TcpFrtoOutOfRange");
        yield return new TestCaseData("duration: 3s\ntcp_frto: -1\nflows: [ { cc: reno } ]\n", 2, 11, "at least 0").SetName("TcpFrtoNegative");
        yield return new TestCaseData("duration: 3s\ntso: yes\nflows: [ { cc: reno } ]\n", 2, 6, "tso: 'yes' is not true or false").SetName("TsoNotABoolean");
        yield return new TestCaseData("duration: 3s\ngro: 1\nflows: [ { cc: reno } ]\n", 2, 6, "gro: '1' is not true or false").SetName("GroNotABoolean");
        yield return new TestCaseData("duration: 3s\ntimeseries_flows: -1\nflows: [ { cc: reno } ]\n", 2, 19, "timeseries_flows must be at least 0").SetName("TimeSeriesFlowsNegative");
        yield return new TestCaseData("duration: 3s\ngro: [ true ]\nflows: [ { cc: reno } ]\n", 2, 6, "gro").SetName("GroNotAScalar");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { count: 4, cc: reno, start: 1s, stagger: 1s }\n", 3, 47, "last flow would start at 4s").SetName("StaggerPastTheEnd");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { count: 3, cc: reno, stagger: 1s, stop: 1.5s }\n", 3, 46, "group's last start (2s").SetName("StopBeforeTheLastStaggeredStart");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { arrivals: poisson, rate: 5, size: 10KB, stagger: 1ms }\n", 3, 56, "stagger does not apply to poisson").SetName("StaggerWithPoisson");
        yield return new TestCaseData("duration: 3s\nflows:\n  - { count: 1000000, cc: reno, stagger: 1000000s }\n", 3, 42, "long after the end of the run").SetName("StaggerTimesCountSaturates");
    }

    [TestCaseSource(nameof(Broken))]
    public void BrokenScenario_ExitTwo_FileLineColumnAndReason_NothingRun(string yaml, int line, int column, string reason)
    {
        string file = Scenario(yaml);
        foreach (var command in new[] { "run", "validate" })
        {
            var (code, output, err) = Run(command, file);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), $"{command}: {err}");
            Assert.That(err, Does.Contain($"{file}:{line}:{column}: ").And.Contain(reason), command);
            Assert.That(output, Is.Empty, $"{command} printed results for a broken scenario");
        }
    }

    private static IEnumerable<TestCaseData> OneMistake()
    {
        TestCaseData Case(string name, string yaml, string message) => new TestCaseData(yaml, message).SetName(name);
        yield return Case("RedMinNotANumber", "duration: 1s\nnetwork: { bottleneck: { queue: { type: red, min: .nan, max: 10 } } }\nflows: [ { cc: reno } ]\n",
            "2:51: min: '.nan' is not a number");
        yield return Case("FlowEntryNotAMapping", "duration: 1s\nflows: [ cubic ]\n", "2:10: each flow entry must be a mapping");
        yield return Case("StructOpsAtBeyondTheLimit", "duration: 3s\nstructops:\n  - { program: bpf_dctcp, at: 2000000s }\nflows: [ { cc: reno } ]\n",
            "3:31: at must be at most 1000000s");
        yield return Case("DurationWithoutValue", "duration: ~\nflows: [ { cc: reno } ]\n", "1:11: duration has no value");
        yield return Case("QuantumTooLargeForANumber", "duration: 1s\nnetwork: { bottleneck: { queue: { type: fq_codel, quantum: 99999999999999999999 } } }\nflows: [ { cc: reno } ]\n",
            "2:60: quantum must be at most 1,048,576; got 99999999999999999999");
        yield return Case("MahimahiTraceIsADirectory", "duration: 1s\nnetwork: { bottleneck: { mahimahi: . } }\nflows: [ { cc: reno } ]\n",
            "it is a directory, not a trace file");
    }

    /// <summary>One mistake gives one error, at its value: no second error that only follows from the first.</summary>
    [TestCaseSource(nameof(OneMistake))]
    public void OneMistake_IsOneError(string yaml, string message)
    {
        string file = Scenario(yaml);
        var (code, _, err) = Run("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), err);
        Assert.That(lines[0], Does.StartWith(file + ":").And.Contain(message));
    }

    [Test]
    public void MissingScenarioFile_ExitTwo()
    {
        var (code, _, err) = Run("run", "/nonexistent/x.yaml");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("/nonexistent/x.yaml:1:1: no such file"));
    }

    [Test]
    public void Run_XdpChainExperimentFile_PointsToTheExperimentCommand()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "scenarios", "experiments", "xdp_chain_ab.yaml");
        var (code, _, err) = Run("run", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("xdp_chain_ab.yaml:").And.Contain("bpfsim experiment xdp-chain FILE"));
    }

    [Test]
    public void ShippedScenarios_AllValidateAndRun()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "scenarios");
        var files = Directory.GetFiles(dir, "*.yaml");
        Assert.That(files, Has.Length.GreaterThanOrEqualTo(6));
        foreach (var f in files)
        {
            var (code, _, err) = Run("run", f, "--duration", "2s", "--quiet");
            // scx_stall.yaml demonstrates the watchdog: its scheduler is ejected, which is exit code 3.
            Assert.That(code, Is.EqualTo(Path.GetFileName(f) == "scx_stall.yaml" ? ExitCodes.CompletedWithFault : ExitCodes.Success), $"{Path.GetFileName(f)}: {err}");
        }
    }

    [Test]
    public void OnOffScenario_EachBurstAfterIdleRestartsTheWindow_BulkFlowNever()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "scenarios", "on_off.yaml");
        var (code, output, err) = Run("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        var flows = doc.RootElement.GetProperty("flows");
        Assert.That(flows[0].GetProperty("cwnd_restarts").GetInt64(), Is.Zero, "a bulk flow never idles");
        Assert.That(flows[1].GetProperty("cwnd_restarts").GetInt64(), Is.EqualTo(9), "bursts at 2.5, 4.5, …, 18.5 s follow ~2 s of idle");
        Assert.That(flows[1].GetProperty("bytes_acked").GetInt64(), Is.EqualTo(10 * 346 * 1448), "ten bursts of 500 KB in whole segments");
    }

    [Test]
    public void ReceiverCc_CubicReceivers_RefuseDctcpsEcn_ItFallsBackToDctcpReno()
    {
        const string yaml = """
            duration: 5s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: ecn_threshold, k: 20, limit: 250 } }
            flows:
              - { cc: dctcp }
            """;
        (string Cc, long Echoes) Flow(string text)
        {
            var (code, output, err) = Run("run", Scenario(text), "--json");
            Assert.That(code, Is.Zero, err);
            using var doc = JsonDocument.Parse(output);
            var flow = doc.RootElement.GetProperty("flows")[0];
            return (flow.GetProperty("cc").GetString()!, flow.GetProperty("ecn_echoes").GetInt64());
        }
        var dctcpReceivers = Flow(yaml);
        Assert.That(dctcpReceivers.Cc, Is.EqualTo("dctcp"));
        Assert.That(dctcpReceivers.Echoes, Is.GreaterThan(0));
        Assert.That(Flow("receiver_cc: cubic\n" + yaml), Is.EqualTo(("dctcp-reno", 0L)));
    }

    [Test]
    public void EcnOne_CubicUsesClassicEcn_OnAnEcnRedQueue()
    {
        const string yaml = """
            duration: 5s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: red, min: 20, max: 60, p_max: 0.1, ecn: true, limit: 250 } }
            flows:
              - { cc: cubic }
            """;
        (long Echoes, long Marks) Result(string text)
        {
            var (code, output, err) = Run("run", Scenario(text), "--json");
            Assert.That(code, Is.Zero, err);
            using var doc = JsonDocument.Parse(output);
            return (doc.RootElement.GetProperty("flows")[0].GetProperty("ecn_echoes").GetInt64(),
                doc.RootElement.GetProperty("links")[0].GetProperty("ecn_marks").GetInt64());
        }
        Assert.That(Result(yaml), Is.EqualTo((0L, 0L)), "tcp_ecn = 2: cubic does not ask for ECN");
        var classic = Result("ecn: 1\n" + yaml);
        Assert.That(classic.Marks, Is.GreaterThan(0));
        Assert.That(classic.Echoes, Is.GreaterThan(0));
    }

    [Test]
    public void TcpRecoveryKeys_RackTlpByDefault_ZeroGivesThePreRackStack()
    {
        // A shallow buffer shared by 8 flows: with the defaults (tcp_recovery 1, tcp_frto 2) RACK and TLP act (REO
        // timers, loss probes); with tcp_recovery 0 none of their counters move.
        const string yaml = """
            duration: 5s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: droptail, limit: 20 } }
            flows:
              - { count: 8, cc: cubic }
            """;
        (long Reo, long Probes, long Timeouts) Result(string text)
        {
            var (code, output, err) = Run("run", Scenario(text), "--json");
            Assert.That(code, Is.Zero, err);
            using var doc = JsonDocument.Parse(output);
            long Sum(string key) => doc.RootElement.GetProperty("flows").EnumerateArray().Sum(f => f.GetProperty(key).GetInt64());
            return (Sum("rack_reo_timeouts"), Sum("loss_probes"), Sum("timeouts"));
        }
        var rack = Result(yaml);
        Assert.That(rack.Reo, Is.GreaterThan(0));
        var old = Result("tcp_recovery: 0\ntcp_frto: 0\n" + yaml);
        Assert.That((old.Reo, old.Probes), Is.EqualTo((0L, 0L)));
        Assert.That(rack, Is.EqualTo(Result("tcp_recovery: 1\ntcp_frto: 2\n" + yaml)), "the defaults are 1 and 2");
    }

    [Test]
    public void Stagger_OpensEachFlowOfAGroupThatMuchAfterThePrevious()
    {
        var (code, json, err) = Run("run", Scenario("""
            duration: 2s
            flows:
              - { count: 4, cc: cubic, start: 0.5s, stagger: 110us }
              - { count: 2, cc: reno, start: 0.5s }
            """), "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(json);
        var starts = doc.RootElement.GetProperty("flows").EnumerateArray()
            .Select(f => (f.GetProperty("cc").GetString(), f.GetProperty("start_s").GetDouble())).ToList();
        // Ids follow the order the flows open: both reno flows and the first cubic one at 0.5 s, then 110 µs apart.
        Assert.That(starts.Where(s => s.Item1 == "cubic").Select(s => s.Item2), Is.EqualTo(new[] { 0.5, 0.50011, 0.50022, 0.50033 }).Within(1e-9));
        Assert.That(starts.Where(s => s.Item1 == "reno").Select(s => s.Item2), Is.EqualTo(new[] { 0.5, 0.5 }));
    }

    [Test]
    public void LossProbes_ShownPerFlowInTheTableAndTheReport()
    {
        // Tail loss probes are what RACK-TLP does instead of timing out: a researcher reading the summary table or
        // report.html sees them beside the timeouts, with the same numbers as the summary JSON's loss_probes.
        string file = Scenario("""
            duration: 5s
            network:
              bottleneck: { rate: 100Mbps, delay: 10ms, queue: { type: droptail, limit: 42 } }
            flows:
              - { count: 32, cc: cubic }
            """);
        var (code, json, err) = Run("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(json);
        var probes = doc.RootElement.GetProperty("flows").EnumerateArray().Select(f => f.GetProperty("loss_probes").GetInt64().ToString(CultureInfo.InvariantCulture)).ToList();
        Assert.That(probes, Has.Some.Not.EqualTo("0"), "the scenario must send probes for this test to mean anything");

        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-tlp-{Guid.NewGuid():N}");
        var (code2, table, err2) = Run("run", file, "--out", dir);
        Assert.That(code2, Is.Zero, err2);
        var rows = table.Split('\n').Select(l => l.Split('│').Select(c => c.Trim()).ToArray()).Where(c => c.Length > 10).ToList();
        int column = Array.IndexOf(rows[0], "TLPs");
        Assert.That(column, Is.GreaterThan(0), table);
        Assert.That(rows.Skip(1).Take(probes.Count).Select(r => r[column]), Is.EqualTo(probes));

        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.That(html, Does.Contain("TLPs</th><th>ECN echoes</th>"));
        // id (after its colour swatch), cc, then start, end, goodput, RTT mean, RTT min, retransmits, timeouts, TLPs.
        var cells = Regex.Matches(html, @"<tr><td><span class=""swatch""[^>]*></span>(\d+)</td><td class=""l"">cubic</td>(?:<td>[^<]*</td>){7}<td>(\d+)</td>")
            .Select(m => m.Groups[2].Value).ToList();
        Assert.That(cells, Is.EqualTo(probes));
    }

    [Test]
    public void TsoAndGro_DefaultToAPhysicalNicsOn_AndEachChangesTheRun()
    {
        const string yaml = """
            duration: 2s
            network:
              bottleneck: { rate: 1Gbps, delay: 2ms, queue: { type: droptail, limit: 1000 } }
              access: { rate: 10Gbps, delay: 0.1ms }
            flows:
              - { cc: cubic }
            """;
        string Result(string text)
        {
            var (code, output, err) = Run("run", Scenario(text), "--json");
            Assert.That(code, Is.Zero, err);
            using var doc = JsonDocument.Parse(output);
            return $"{doc.RootElement.GetProperty("events").GetInt64()}/{doc.RootElement.GetProperty("flows")[0].GetProperty("bytes_acked").GetInt64()}";
        }
        string defaults = Result(yaml);
        Assert.That(Result("tso: true\ngro: true\n" + yaml), Is.EqualTo(defaults), "both on unless told otherwise");
        var changed = new[] { "tso: false\n", "gro: false\n", "tso: false\ngro: false\n" }.Select(k => Result(k + yaml)).ToList();
        Assert.That(changed, Has.None.EqualTo(defaults));
        Assert.That(changed, Is.Unique);
    }

    [Test]
    public void LinkUpdateScenario_OldSocketsKeepV1_NewOnesGetV2_LinkDetachedAtTheEnd()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "scenarios", "link_update.yaml");
        var (code, output, err) = Run("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        var maps = doc.RootElement.GetProperty("struct_ops");
        Assert.That(maps.GetArrayLength(), Is.EqualTo(2));
        string Events(int i) => string.Join(" ", maps[i].GetProperty("timeline").EnumerateArray()
            .Where(e => e.GetProperty("event").GetString()!.Contains("link"))
            .Select(e => $"{e.GetProperty("event").GetString()}@{Math.Round(e.GetProperty("t_s").GetDouble())}")); // the update waits a grace period
        Assert.That(Events(0), Is.EqualTo("linked@0 unlinked (update)@10"));
        Assert.That(Events(1), Is.EqualTo("linked (update)@10 unlinked@25"));
        Assert.That(maps[0].GetProperty("refcnt_max").GetInt64(), Is.EqualTo(3), "the link and the two early flows");
        Assert.That(maps[1].GetProperty("refcnt_max").GetInt64(), Is.EqualTo(3), "the link and the two later flows");
    }

    [TestCase("  - { program: bpf_reno_link_v2, at: 5s, replace: bpf_reno_link_v1 }\n", "is not registered by an earlier structops entry")]
    [TestCase("  - { program: bpf_reno_link_v1, at: 0s }\n  - { program: bpf_minimal, at: 5s, replace: bpf_reno_link_v1 }\n", "two link-mode consumers")]
    public void ReplaceMistakes_ExitTwo(string entries, string reason)
    {
        string file = Scenario("duration: 10s\nstructops:\n" + entries.Replace("\\n", "\n") + "flows: [ { cc: cubic } ]\n");
        var (code, _, err) = Run("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain(reason));
    }
}
