using System.Text.Json.Nodes;

namespace BpfSim.Tests.Cli;

/// <summary>
/// C# XDP programs through the command: <c>bpfsim list</c> shows them with their kind, scenario <c>xdp:</c> entries
/// take them by name or by .dll path (errors at file:line:col), and one that throws is ejected as a struct_ops consumer
/// is: its packet XDP_ABORTED, the fault in the summary, exit 3.
/// </summary>
[Category("Cli")]
public sealed class XdpConsumerCliTests
{
    private static readonly string s_pairDll = CliRun.ConsumerDll("TestConsumers/XdpPair", "XdpPair");

    private const string Header = """
        seed: 1
        duration: 1s
        network:
          bottleneck: { rate: 20Mbps, delay: 10ms }
        flows:
          - { count: 2, cc: cubic, start: 0s }

        """;

    /// <summary>A scenario beside a copy of XdpPair.dll, so the entries name it relative to the file.</summary>
    private static string Scenario(string yaml)
    {
        string file = CliRun.Scenario(Header + yaml);
        File.Copy(s_pairDll, Path.Combine(Path.GetDirectoryName(file)!, "XdpPair.dll"));
        return file;
    }

    [Test]
    public void List_ShowsTheXdpProgram_WithKindXdp()
    {
        var (code, output, err) = CliRun.Invoke("list");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Match(@"\n  xdp_src_counter_cs +xdp +prog +per-source packet/byte counter"));
        (code, output, err) = CliRun.Invoke("list", "--json");
        Assert.That(code, Is.Zero, err);
        var consumer = JsonNode.Parse(output)!["consumers"]!.AsArray().Single(c => (string)c!["name"]! == "xdp_src_counter_cs")!;
        Assert.That(((string?)consumer["type"], (string?)consumer["kind"]), Is.EqualTo(("xdp", "xdp")));
    }

    [Test]
    public void Dll_WithTwoXdpPrograms_NeedsName_AndNameRunsIt()
    {
        string file = Scenario("xdp:\n  - { program: XdpPair.dll, interface: router_left:access }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{file}:8:16: XdpPair.dll has 4 XDP programs (xdp_bad_ctor, xdp_faulty, xdp_pass_all, xdp_spin): pick one with name:"));
        file = Scenario("xdp:\n  - { program: XdpPair.dll, name: xdp_pass_all, interface: router_left:access }\n");
        (code, var output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        var hook = JsonNode.Parse(output)!["xdp"]!.AsArray().Single()!;
        Assert.That((string?)hook["programs"]![0], Does.StartWith("xdp_pass_all (link"));
        Assert.That((long)hook["pass"]!, Is.GreaterThan(0));
    }

    [Test]
    public void Dll_NameOfItsStructOpsConsumer_IsNotAnXdpProgram()
    {
        string file = Scenario("xdp:\n  - { program: XdpPair.dll, name: xdp_pair_cc, interface: router_left:access }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("xdp_pair_cc is a tcp_congestion_ops consumer, not an XDP program"));
    }

    [Test]
    public void StructOpsConsumer_NamedInXdp_IsNotAnXdpProgram()
    {
        string file = Scenario("xdp:\n  - { program: bpf_cubic, interface: router_left:access }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{file}:8:16: bpf_cubic is a tcp_congestion_ops consumer, not an XDP program (C# XDP programs: xdp_src_counter_cs"));
    }

    [Test]
    public void UnknownName_ListsTheObjectsAndTheCSharpPrograms()
    {
        string file = Scenario("xdp:\n  - { program: xdp_nope, interface: router_left:access }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{file}:8:16: unknown XDP program 'xdp_nope' (bpfsim's objects: xdp_src_counter; C# XDP programs: xdp_src_counter_cs"));
    }

    [Test]
    public void XdpProgram_NamedInStructOps_BelongsInXdp()
    {
        string file = Scenario("structops:\n  - { program: xdp_src_counter_cs, at: 0s }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("xdp_src_counter_cs is an XDP program, not a struct_ops consumer: it belongs in xdp:"));
    }

    [Test]
    public void UnknownOption_IsReportedAtItsLine()
    {
        string file = Scenario("xdp:\n  - program: xdp_src_counter_cs\n    interface: router_left:access\n    globals: { drop_adr: 1 }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{file}:10:"));
        Assert.That(err, Does.Contain("drop_adr"));
    }

    [Test]
    public void ProgramThatThrows_PacketAborted_Ejected_FaultInSummary_Exit3()
    {
        string file = Scenario("xdp:\n  - { program: XdpPair.dll, name: xdp_faulty, interface: router_left:access, globals: { fault_at: 50 } }\n");
        string outDir = Path.Combine(Path.GetDirectoryName(file)!, "out");
        var (code, output, err) = CliRun.Invoke("run", file, "--out", outDir, "--json");
        Assert.That(code, Is.EqualTo(3), err);
        Assert.That(err, Does.Contain("bpfsim: consumer fault: ").And.Contain("xdp_faulty.run: InvalidOperationException: packet 50: bug"));
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")))!;
        var fault = summary["faults"]!.AsArray().Single()!;
        Assert.That(((string?)fault["consumer"], (string?)fault["member"], (string?)fault["kind"]), Is.EqualTo(("xdp_faulty", "run", "Exception")));
        var hook = summary["xdp"]!.AsArray().Single(x => (string)x!["interface"]! == "router_left:access")!;
        Assert.That((long)hook["aborted"]!, Is.EqualTo(1), "the packet it threw on");
        Assert.That((long)hook["pass"]!, Is.EqualTo(49), "then it is detached: later packets meet no program and are not counted");
        var flows = JsonNode.Parse(output)!["flows"]!.AsArray();
        Assert.That(flows.All(f => (long)f!["bytes_acked"]! > 100_000), "the flows go on once the program is gone");
    }

    [Test]
    public void HostInterface_AttachesWhenItsFlowOpens_AndSeesOnlyThatHostsPackets()
    {
        // r1:eth0 receives flow 2's data (from sender 10.1.0.2); s0:eth0 receives flow 1's ACKs (from 10.2.0.1).
        string file = Scenario("xdp:\n  - { program: xdp_src_counter_cs, interface: r1:eth0 }\n" +
                               "  - { program: XdpPair.dll, name: xdp_pass_all, interface: s0:eth0 }\n");
        var (code, output, err) = CliRun.Invoke("run", file, "--dump-map", "src_counts");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("key: 0a 01 00 02  value: ").And.Contain("Found 1 element"));
        (code, output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        var hooks = JsonNode.Parse(output)!["xdp"]!.AsArray();
        Assert.That(hooks.Select(h => (string?)h!["interface"]), Is.EquivalentTo(new[] { "s0:eth0", "r1:eth0" }));
        Assert.That(hooks.All(h => (long)h!["pass"]! > 0));
    }

    [Test]
    public void HostInterface_OfAFlowTheScenarioDoesNotHave_IsAnError()
    {
        string file = Scenario("xdp:\n  - { program: xdp_src_counter_cs, interface: s2:eth0 }\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{file}:8:47: no flow 3 (flows.csv's id 3): this scenario has 2 flow(s)"));
    }

    [Test]
    public void StructOpsRegister_OfAnXdpProgram_SaysItIsOne()
    {
        var (code, _, err) = CliRun.Invoke("structops", "register", "xdp_src_counter_cs");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("xdp_src_counter_cs is an XDP program, not a struct_ops consumer"));
    }

    [TestCase("validate")]
    [TestCase("run")]
    public void ConstructorThatThrows_IsRefusedAtTheEntrysLine(string command)
    {
        string file = Scenario("xdp:\n  - { program: XdpPair.dll, name: xdp_bad_ctor, interface: router_left:access }\n");
        var (code, _, err) = CliRun.Invoke(command, file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain($"{file}:8:5: xdp_bad_ctor: its constructor failed: InvalidOperationException: no map for you"));
    }

    [Test]
    public void RunThatNeverReturns_Abandoned_RunReplayedWithItEjected_Exit3()
    {
        // A separate process, as a user runs it: the abandoned call's thread spins until the process exits.
        string file = Scenario("xdp:\n  - { program: XdpPair.dll, name: xdp_spin, interface: router_left:access, globals: { spin_at: 30 } }\n");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "bpfsim.dll"), "run", file, "--json", "--call-timeout", "300ms" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        Assert.That(p.WaitForExit(120_000), "bpfsim finished");
        Assert.That(p.ExitCode, Is.EqualTo(3), err);
        Assert.That(err, Does.Contain("xdp_spin.run").And.Contain("did not return within 0.3 s; replaying the run"));
        var summary = JsonNode.Parse(stdout.Result)!;
        var fault = summary["faults"]!.AsArray().Single()!;
        Assert.That(((string?)fault["consumer"], (string?)fault["kind"]), Is.EqualTo(("xdp_spin", "Timeout")));
        var hook = summary["xdp"]!.AsArray().Single()!;
        Assert.That(((long)hook["pass"]!, (long)hook["aborted"]!), Is.EqualTo((29L, 1L)), "the refused call's packet is aborted; then it is detached");
    }
}
