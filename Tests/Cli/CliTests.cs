using BpfSim.Studies;
using System.Text.Json;
using BpfSim.Cli;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

[Category("Cli")]
public sealed class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = BpfSimCommand.Invoke(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void Experiment_InnerMapSwap_PrintsResultTable()
    {
        var (code, output, err) = Run("experiment", "inner-map-swap");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain("inner-map-swap").And.Contain("per-update").And.Contain("prog-refs"));
        Assert.That(output, Does.Not.Contain("\u001b["), "no ANSI codes when not on a terminal");
    }

    [Test]
    public void Experiment_Json_IsValidJsonWithEveryConfiguration()
    {
        var (code, output, _) = Run("experiment", "inner-map-swap", "--json", "--seed", "3");
        Assert.That(code, Is.EqualTo(ExitCodes.Success));
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("seed").GetUInt64(), Is.EqualTo(3));
        var rows = doc.RootElement.GetProperty("inner_map_swaps");
        Assert.That(rows.GetArrayLength(), Is.EqualTo(9));
        Assert.That(rows[0].GetProperty("wait").GetString(), Is.EqualTo("synchronize_rcu"));
    }

    [Test]
    public void Experiment_SameSeedTwice_IdenticalJsonExceptWallTime()
    {
        static string Strip(string json)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
            node.AsObject().Remove("wall_s");
            return node.ToJsonString();
        }
        string first = Strip(Run("experiment", "inner-map-swap", "--json").Out);
        string second = Strip(Run("experiment", "inner-map-swap", "--json").Out);
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Run_OutUnderAFile_FailsBeforeTheRunWithBadInput()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (code, output, err) = Run("run", "--out", Path.Combine(file, "x"), "--duration", "1s");
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
            Assert.That(err, Does.StartWith("bpfsim: --out ").And.Not.Contain("   at "));
            Assert.That(output, Is.Empty, "nothing was simulated");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void Run_OutOnAFile_SaysAFileIsThere()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (code, output, err) = Run("run", "--out", file, "--duration", "1s");
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
            Assert.That(err, Does.StartWith($"bpfsim: --out {file}: a file is there; the outputs go into a directory"));
            Assert.That(output, Is.Empty, "nothing was simulated");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestCase("--seed", "-1", "--seed: '-1' is not a whole number from 0 to 18446744073709551615")]
    [TestCase("--seed", "abc", "--seed: 'abc' is not a whole number from 0 to 18446744073709551615")]
    public void Run_BadNumber_SaysWhatTheOptionTakes_NotADotNetType(string option, string value, string message)
    {
        var (code, output, err) = Run("run", option, value);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.StartWith($"bpfsim: {message}\n").And.Not.Contain("System."));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void Run_DumpMapWithoutXdp_IsRefusedBeforeTheRun()
    {
        string scenario = Path.Combine(AppContext.BaseDirectory, "scenarios", "scx_simple.yaml");
        var (code, output, err) = Run("run", scenario, "--dump-map", "foo");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.StartWith("bpfsim: --dump-map foo: ").And.Contain("attaches no XDP program"));
        Assert.That(output, Is.Empty, "nothing was simulated");
    }

    [Test]
    public void Manifest_ToolVersion_IsWhatBpfsimVersionPrints()
    {
        // --version prints the CLI assembly's informational version (0.1.<commits>+<hash> from a checkout); the
        // libraries' assembly version stays 0.1.0 by design, which the manifest used to report.
        string expected = typeof(BpfSimCommand).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        var (code, output, err) = Run("run", "--duration", "1s", "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(JsonDocument.Parse(output).RootElement.GetProperty("manifest").GetProperty("tool_version").GetString(), Is.EqualTo(expected));
    }

    [Test]
    public void ParseErrorText_LeavesOtherMessagesAlone() =>
        Assert.That(ParseErrorText.Friendly("Unrecognized command or argument '--x'."), Is.EqualTo("Unrecognized command or argument '--x'."));

    [Test]
    public void Experiment_Quiet_PrintsNothing()
    {
        var (code, output, _) = Run("experiment", "inner-map-swap", "--quiet");
        Assert.That(code, Is.Zero);
        Assert.That(output, Is.Empty);
    }

    [TestCase("run", "--bogus")]
    [TestCase("run", "--seed", "minus-one")]
    [TestCase("experiment", "nope")]
    [TestCase("frobnicate")]
    public void BadArguments_ExitTwoWithMessage(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.StartWith("bpfsim: "));
    }

    [Test]
    public void List_NamesMapTypesAndWaitStrategies()
    {
        var (code, output, _) = Run("list");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("BPF_MAP_TYPE_HASH_OF_MAPS").And.Contain("BatchSynchronize"));
    }

    [Test]
    public void List_ShowsTheShippedXdpObjectAndTheDevmapType_AsScenariosAcceptThem()
    {
        var (code, output, _) = Run("list");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Match(@"\nXDP objects \(an xdp: entry's program: NAME\):\n  xdp_src_counter +programs xdp_src_counter \(xdp\); maps src_counts \(hash\) \["));
        Assert.That(output, Does.Contain("  devmap         BPF_MAP_TYPE_DEVMAP (14)"));
        (code, output, _) = Run("list", "--json");
        Assert.That(code, Is.Zero);
        using var doc = JsonDocument.Parse(output);
        var xdp = doc.RootElement.GetProperty("xdp_objects").EnumerateArray().Single();
        Assert.That(xdp.GetProperty("name").GetString(), Is.EqualTo("xdp_src_counter"));
        Assert.That(xdp.GetProperty("programs")[0].GetProperty("section").GetString(), Is.EqualTo("xdp"));
        Assert.That(xdp.GetProperty("maps")[0].GetProperty("name").GetString(), Is.EqualTo("src_counts"));
        Assert.That(File.Exists(xdp.GetProperty("path").GetString()));
        Assert.That(doc.RootElement.GetProperty("map_types").EnumerateArray().Select(t => t.GetString()), Does.Contain("BPF_MAP_TYPE_DEVMAP"));
    }

    [Test]
    public void List_Json_NamesTypesMembersAlgorithmsAndConsumers()
    {
        var (code, output, _) = Run("list", "--json");
        Assert.That(code, Is.Zero);
        using var doc = JsonDocument.Parse(output);
        var type = doc.RootElement.GetProperty("struct_ops_types")[0];
        Assert.That(type.GetProperty("name").GetString(), Is.EqualTo("tcp_congestion_ops"));
        Assert.That(type.GetProperty("members").GetArrayLength(), Is.EqualTo(18));
        Assert.That(doc.RootElement.GetProperty("algorithms")[0].GetProperty("name").GetString(), Is.EqualTo("reno"));
        Assert.That(output, Does.Contain("bpf_minimal"));
        var sched = doc.RootElement.GetProperty("struct_ops_types")[1];
        Assert.That(sched.GetProperty("name").GetString(), Is.EqualTo("sched_ext_ops"));
        var members = sched.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.That(members[0], Is.EqualTo("select_cpu"), "ext.c's first member");
        Assert.That(members[^1], Is.EqualTo("name"), "name[SCX_OPS_NAME_LEN] last");
    }

    [Test]
    public void StructOpsRegister_BuiltinConsumer_PrintsBpftoolLines()
    {
        var (code, output, err) = Run("structops", "register", "bpf_minimal");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.StartWith("Registered tcp_congestion_ops bpf_minimal id 1"));
        Assert.That(output, Does.Contain("BPF_STRUCT_OPS_STATE_INUSE"));
    }

    [Test]
    public void StructOpsRegister_SchedExtScheduler_LinksItOnAnEmptyMachine()
    {
        var (code, output, err) = Run("structops", "register", "scx_simple");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.StartWith("Registered sched_ext_ops scx_simple map id 1 link id 1"));
        Assert.That(output, Does.Contain("\"bpf_struct_ops_sched_ext_ops\"").And.Contain("BPF_STRUCT_OPS_STATE_READY"));
        Assert.That(output, Does.Contain("\"dispatch\": \"void (s32, struct task_struct *) dispatch/prog_id:"));
    }

    [Test]
    public void StructOpsRegister_ExternalAssembly_Json()
    {
        string dll = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(CliTests).Assembly.Location)!,
            "../../../ExternalConsumer/bin", typeof(CliTests).Assembly.Location.Contains("/Release/") ? "Release" : "Debug", "net10.0/MyCc.dll"));
        var (code, output, err) = Run("structops", "register", dll, "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement[1].GetProperty("bpf_struct_ops_tcp_congestion_ops").GetProperty("data").GetProperty("name").GetString(),
            Is.EqualTo("my_cc"));
    }

    [TestCase("nope", "no consumer called 'nope'")]
    [TestCase("/nonexistent/MyCc.dll", "no such file")]
    public void StructOpsRegister_BadTarget_ExitTwo(string target, string message)
    {
        var (code, _, err) = Run("structops", "register", target);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain(message));
    }

    [Test]
    public void Run_SizedFlowThatDidNotComplete_FctRowShowsNoTimesRatherThanZero()
    {
        var stdout = new StringWriter();
        Assert.That(BpfSim.Cli.Commands.BpfSimCommand.Invoke(["run", "--duration", "3s"], stdout, new StringWriter()), Is.Zero);

        // The default scenario's 10 MB reno transfer is still going at 3 s.
        var row = stdout.ToString().Split('\n').Single(l => l.Contains(">=1MB"));
        Assert.That(row, Does.Contain("│ 0 ").And.Contain("│ -"));
        Assert.That(row, Does.Not.Contain("0.0"));
    }
}
