using System.Buffers.Binary;
using System.Text.Json;
using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;
using BpfSim.Tests.Cli;

namespace BpfSim.Tests.Tcp.Xdp;

/// <summary>
/// scenarios/xdp_counter.yaml end to end: xdp_src_counter at router_left:access counts every sender's packets and
/// drops 10.1.0.2's; the map, the interface counters and the links agree, and the CLI dumps the map.
/// </summary>
[Category("Tcp")]
public sealed class XdpScenarioTests
{
    private static readonly Study s_study = new();

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../../.."));

    private static string Scenario => Path.Combine(Repo(), "scenarios", "xdp_counter.yaml");

    /// <summary>Keeps the run's network, to read its links after the run.</summary>
    private sealed class NetworkProbe : ITcpRunObserver
    {
        public Network? Network { get; private set; }

        public void Attach(TcpRunContext run) => Network = run.Network;

        public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
        {
        }

        public void Finish(SimTime end)
        {
        }
    }

    [Test]
    public void SrcCounter_CountsEqualWhatEachSenderSentToTheRouter_AndTheDroppedSenderGetsNothingThrough()
    {
        // The senders stop at 2 s, so nothing is on their access links when the run ends at 3 s.
        var spec = s_study.Load(Scenario).WithDuration(SimTime.FromSeconds(3)).Tcp!;
        spec = spec with { Flows = [spec.Flows[0] with { Stop = SimTime.FromSeconds(2) }] };
        var probe = new NetworkProbe();
        var result = new TcpScenarioRunner(spec, s_study.Factory.Create(), s_study.Catalog, [probe]).Run();
        var net = probe.Network!;
        var map = result.XdpMaps.Single(m => m.Name == "src_counts");
        var counts = new Dictionary<uint, long>();
        foreach (var entry in map.Json)
        {
            var key = entry!["key"]!.AsArray().Select(b => Convert.ToByte((string)b!, 16)).ToArray();
            var value = entry["value"]!.AsArray().Select(b => Convert.ToByte((string)b!, 16)).ToArray();
            counts[BinaryPrimitives.ReadUInt32BigEndian(key)] = (long)BinaryPrimitives.ReadUInt64LittleEndian(value);
        }
        for (int i = 0; i < 4; i++)
        {
            var up = net.Links.Single(l => l.Name == $"s{i}_up");
            long arrived = up.Stats.PacketsSent - up.Stats.RandomLosses;
            Assert.That(counts[net.AddressesOf(i).SenderIp], Is.EqualTo(arrived), $"sender {i} (10.1.0.{i + 1})");
        }
        var xdp = result.Xdp!.Single(x => x.Interface == "router_left:access");
        Assert.That(xdp.Pass + xdp.Drop, Is.EqualTo(counts.Values.Sum()));
        Assert.That(result.Programs.Single(p => p.Name == "xdp_src_counter").RunCount, Is.EqualTo(xdp.Pass + xdp.Drop), "one run per packet");
        Assert.That(xdp.Drop, Is.EqualTo(counts[0x0a010002]).And.GreaterThan(0), "every packet of 10.1.0.2 is dropped (its SYN and retries)");
        Assert.That(result.Flows[1].BytesAcked, Is.Zero, "flow 2 never connects");
        Assert.That(result.Flows.Where(f => f.Id != 2).All(f => f.BytesAcked > 0));
    }

    [Test]
    public void Cli_DumpMap_PrintsTheMapAsBpftoolDoes_AndJsonGivesBpftoolsArray()
    {
        // src_counts has BTF key and value types (__be32, struct src_count), so bpftool prints it through btf_dumper
        // (map.c do_dump: maps_have_btf), not as hex: this used to expect "key: 0a 01 00 02  value: ..", the form of a
        // map without BTF. The key is the __u32 read in host (little-endian) order, as btf_dumper reads it.
        var (code, output, err) = CliRun.Invoke("run", Scenario, "--duration", "2s", "--dump-map", "src_counts");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("XDP / tcx hooks per interface"));
        Assert.That(output, Does.Contain("\"key\": 33554698,\n        \"value\": {\n            \"packets\": "), "10.1.0.2, its bytes 0a 01 00 02 read as a little-endian u32");
        Assert.That(output, Does.Not.Contain("Found 4 elements"), "bpftool prints no count after a BTF dump");
        (code, output, err) = CliRun.Invoke("run", Scenario, "--duration", "2s", "--dump-map", "src_counts", "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetArrayLength(), Is.EqualTo(4));
        Assert.That(doc.RootElement[0].GetProperty("key").GetArrayLength(), Is.EqualTo(4));
    }

    [Test]
    public void Cli_DumpMap_BothBtfForms_ParseAsJson_AndTheirCountsAreTheHexDecoded()
    {
        var (code, output, err) = CliRun.Invoke("run", Scenario, "--duration", "2s", "--dump-map", "src_counts", "--json");
        Assert.That(code, Is.Zero, err);
        using var json = JsonDocument.Parse(output);
        var fromHex = new Dictionary<uint, (ulong Packets, ulong Bytes)>();
        foreach (var entry in json.RootElement.EnumerateArray())
        {
            var key = entry.GetProperty("key").EnumerateArray().Select(b => Convert.ToByte(b.GetString(), 16)).ToArray();
            var value = entry.GetProperty("value").EnumerateArray().Select(b => Convert.ToByte(b.GetString(), 16)).ToArray();
            uint k = BinaryPrimitives.ReadUInt32LittleEndian(key);
            fromHex[k] = (BinaryPrimitives.ReadUInt64LittleEndian(value), BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(8)));
            var formatted = entry.GetProperty("formatted");
            Assert.That(formatted.GetProperty("key").GetUInt32(), Is.EqualTo(k));
            Assert.That(formatted.GetProperty("value").GetProperty("packets").GetUInt64(), Is.EqualTo(fromHex[k].Packets));
            Assert.That(formatted.GetProperty("value").GetProperty("bytes").GetUInt64(), Is.EqualTo(fromHex[k].Bytes));
        }
        Assert.That(fromHex, Has.Count.EqualTo(4));
        Assert.That(fromHex[BinaryPrimitives.ReverseEndianness(0x0a010001u)].Packets, Is.GreaterThan(0));

        (code, output, err) = CliRun.Invoke("run", Scenario, "--duration", "2s", "--dump-map", "src_counts", "--quiet");
        Assert.That(code, Is.Zero, err);
        int start = output.IndexOf("[{", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), output);
        using var plain = JsonDocument.Parse(output[start..]);
        var fromPlain = plain.RootElement.EnumerateArray().ToDictionary(
            e => e.GetProperty("key").GetUInt32(),
            e => (e.GetProperty("value").GetProperty("packets").GetUInt64(), e.GetProperty("value").GetProperty("bytes").GetUInt64()));
        Assert.That(fromPlain, Is.EquivalentTo(fromHex), "the same deterministic run, printed both ways");
    }

    [Test]
    public void Cli_Out_WritesTheMapsJson_WithTheFormattedForm()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-xdp-out-{Guid.NewGuid():N}");
        try
        {
            var (code, _, err) = CliRun.Invoke("run", Scenario, "--duration", "1s", "--out", dir, "--quiet");
            Assert.That(code, Is.Zero, err);
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "maps", "src_counts.json")));
            Assert.That(doc.RootElement.EnumerateArray().All(e => e.GetProperty("formatted").GetProperty("value").TryGetProperty("packets", out _)));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Test]
    public void Cli_DumpMapOfNoSuchMap_IsBadInput_NamingTheRunsMaps()
    {
        var (code, _, err) = CliRun.Invoke("run", Scenario, "--duration", "1s", "--dump-map", "nosuch", "--quiet");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("src_counts"));
    }

    [Test]
    public void Cli_DumpMapOfNoSuchMap_IsRefusedBeforeTheRun()
    {
        var (code, output, err) = CliRun.Invoke("run", Scenario, "--dump-map", "nosuch");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Is.EqualTo($"bpfsim: --dump-map nosuch: no such map; the XDP programs of {Scenario} create src_counts{Environment.NewLine}"));
        Assert.That(output, Is.Empty, "refused before the run: no summary");
    }

    private static string TwoInterfaces => CliRun.Scenario("""
        seed: 1
        duration: 1s
        xdp:
          - { program: xdp_src_counter, interface: router_left:access }
          - { program: xdp_src_counter, interface: router_right:access }
        flows:
          - { count: 2, cc: cubic }
        """);

    [Test]
    public void Cli_SameNamedMapsOnTwoInterfaces_DumpMapPrintsEach_WithItsIdAndInterface()
    {
        string file = TwoInterfaces;
        var (code, output, err) = CliRun.Invoke("run", file, "--dump-map", "src_counts", "--quiet");
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Match(@"map src_counts \(id \d+, hash\) of xdp_src_counter.bpf.o on router_left:access, at the end of the run:\n"));
        Assert.That(output, Does.Match(@"map src_counts \(id \d+, hash\) of xdp_src_counter.bpf.o on router_right:access, at the end of the run:\n"));
        (code, output, err) = CliRun.Invoke("run", file, "--dump-map", "src_counts", "--json");
        Assert.That(code, Is.Zero, err);
        using (var both = JsonDocument.Parse(output))
        {
            Assert.That(both.RootElement.EnumerateObject().Select(p => p.Name),
                Is.EqualTo(new[] { "src_counts@router_left:access", "src_counts@router_right:access" }));
        }
        (code, output, err) = CliRun.Invoke("run", file, "--dump-map", "src_counts@router_right:access", "--json");
        Assert.That(code, Is.Zero, err);
        using var one = JsonDocument.Parse(output);
        Assert.That(one.RootElement.ValueKind, Is.EqualTo(JsonValueKind.Array), "a key picks one map: bpftool's array");
    }

    [Test]
    public void Cli_Out_SameNamedMapsOnTwoInterfaces_WritesAFileForEach()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-xdp-maps-{Guid.NewGuid():N}");
        try
        {
            var (code, _, err) = CliRun.Invoke("run", TwoInterfaces, "--out", dir, "--quiet");
            Assert.That(code, Is.Zero, err);
            Assert.That(Directory.GetFiles(Path.Combine(dir, "maps")).Select(Path.GetFileName).Order(StringComparer.Ordinal),
                Is.EqualTo(new[] { "src_counts@router_left_access.json", "src_counts@router_right_access.json" }));
            using var left = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "maps", "src_counts@router_left_access.json")));
            using var right = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "maps", "src_counts@router_right_access.json")));
            Assert.That(left.RootElement.ToString(), Is.Not.EqualTo(right.RootElement.ToString()), "the senders' data and the receivers' ACKs");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static string ReplaceScenario(string mode, string? detachAt) => CliRun.Scenario($$"""
        seed: 1
        duration: 3s
        xdp:
          - { program: xdp_src_counter, interface: router_left:access, at: 0s, mode: {{mode}}{{(detachAt is null ? "" : $", detach_at: {detachAt}")}} }
          - { program: xdp_src_counter_cs, interface: router_left:access, at: 1s, mode: {{mode}}, replace: true }
        flows:
          - { count: 2, cc: cubic }
        """);

    [TestCase("link")]
    [TestCase("prog")]
    public void Cli_ReplacedProgram_EndsWhenReplaced_InTheSummaryAndXdpCsv(string mode)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-xdp-replace-{Guid.NewGuid():N}");
        try
        {
            var (code, _, err) = CliRun.Invoke("run", ReplaceScenario(mode, null), "--out", dir, "--quiet");
            Assert.That(code, Is.Zero, err);
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
            var programs = summary.RootElement.GetProperty("xdp")[0].GetProperty("programs").EnumerateArray().Select(p => p.GetString());
            Assert.That(programs, Is.EqualTo(new[] { $"xdp_src_counter ({mode}, 0s–1s)", $"xdp_src_counter_cs ({mode}, 1s–end)" }));
            Assert.That(File.ReadAllText(Path.Combine(dir, "xdp.csv")), Does.Contain($"\"xdp_src_counter ({mode}, 0s–1s); xdp_src_counter_cs ({mode}, 1s–end)\""));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [TestCase("link")]
    [TestCase("prog")]
    public void Cli_ReplacedProgramsDetachAt_LeavesItsReplacementAttached(string mode)
    {
        static long Pass(string file)
        {
            var (code, output, err) = CliRun.Invoke("run", file, "--json");
            Assert.That(code, Is.Zero, err);
            using var doc = JsonDocument.Parse(output);
            return doc.RootElement.GetProperty("xdp")[0].GetProperty("pass").GetInt64();
        }
        // The replaced program's detach_at (2 s) comes after it was replaced (1 s): it closes that program's fd, and
        // neither closes the link the replacement now runs in nor detaches the replacement's program.
        Assert.That(Pass(ReplaceScenario(mode, "2s")), Is.EqualTo(Pass(ReplaceScenario(mode, null))));
    }

    [Test]
    public void Validate_AnObjectWithNoProgramsAtAll_SaysSo()
    {
        string path = BpfSim.Tests.Ebpf.TestObjects.PathOf("xdp_no_programs");
        var (code, _, err) = CliRun.Invoke("validate", Yaml($"  - {{ program: {path}, interface: router_left:access }}"));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.EndWith($"xdp_no_programs.o has no XDP program (SEC(\"xdp\")): it has no programs at all{Environment.NewLine}"));
    }

    [Test]
    public void Cli_ListInterfaces_NamesTheRoutersPorts()
    {
        var (code, output, _) = CliRun.Invoke("run", Scenario, "--list-interfaces");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("1 router_left:access").And.Contain("3 router_right:bottleneck"));
    }

    [Test]
    public void Summary_HasAnXdpSection_OnlyWhenTheScenarioHasOne()
    {
        var (_, withXdp, _) = CliRun.Invoke("run", Scenario, "--duration", "1s", "--json");
        using var a = JsonDocument.Parse(withXdp);
        Assert.That(a.RootElement.GetProperty("xdp")[0].GetProperty("interface").GetString(), Is.EqualTo("router_left:access"));
        var (_, without, _) = CliRun.Invoke("run", "--duration", "1s", "--json");
        using var b = JsonDocument.Parse(without);
        Assert.That(b.RootElement.TryGetProperty("xdp", out _), Is.False);
    }

    private static string Yaml(string xdp) => CliRun.Scenario($"""
        duration: 1s
        xdp:
        {xdp}
        flows:
          - {"{"} count: 1, cc: cubic {"}"}
        """);

    [Test]
    public void Validate_UnknownInterface_IsAnErrorAtItsLine_ListingTheValidOnes()
    {
        var (code, _, err) = CliRun.Invoke("validate", Yaml("  - { program: xdp_src_counter, interface: router_left:eth9 }"));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Match(@":3:\d+: unknown interface 'router_left:eth9'.*router_left:access, router_left:bottleneck"));
    }

    [Test]
    public void Validate_AnObjectWithoutAnXdpProgram_IsAnError()
    {
        string reno = Path.Combine(Repo(), "Programs", "bpf", "obj", "bpf_reno.bpf.o");
        var (code, _, err) = CliRun.Invoke("validate", Yaml($"  - {{ program: {reno}, interface: router_left:access }}"));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("has no XDP program"));
    }

    [Test]
    public void Validate_TwoProgramsOnOneInterfaceAtOnce_IsAnError_UnlessTheSecondReplaces()
    {
        const string first = "  - { program: xdp_src_counter, interface: router_left:access, at: 0s }\n";
        var (code, _, err) = CliRun.Invoke("validate", Yaml(first + "  - { program: xdp_src_counter, interface: router_left:access, at: 1s }"));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("one program or one link per interface"));
        (code, _, err) = CliRun.Invoke("validate", Yaml(first + "  - { program: xdp_src_counter, interface: router_left:access, at: 1s, replace: true }"));
        Assert.That(code, Is.Zero, err);
    }

    [Test]
    public void Validate_AGlobalTheObjectLacks_IsAnErrorAtItsValue()
    {
        var (code, _, err) = CliRun.Invoke("validate", Yaml("  - { program: xdp_src_counter, interface: router_left:access, globals: { nope: 1 } }"));
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("nope"));
    }
}
