using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp.Xdp;

/// <summary>
/// C# XDP programs in scenario runs: xdp_src_counter_cs (Programs/Xdp) against its BPF twin xdp_src_counter.bpf.o on
/// the same scenario — two independent implementations that must give the same map and the same interface counters.
/// </summary>
[Category("Tcp")]
public sealed class XdpConsumerRunTests
{
    private static readonly Study s_study = new();

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../../.."));

    private static TcpRunResult Run(string scenario)
    {
        var spec = s_study.Load(Path.Combine(Repo(), "scenarios", scenario)).WithDuration(SimTime.FromSeconds(2)).Tcp!;
        return new TcpScenarioRunner(spec, s_study.Factory.Create(), s_study.Catalog).Run();
    }

    private static SortedDictionary<string, string> Entries(TcpRunResult result) =>
        new(result.XdpMaps.Single(m => m.Name == "src_counts").Json.ToDictionary(
            e => string.Join(" ", e!["key"]!.AsArray().Select(b => (string)b!)),
            e => string.Join(" ", e!["value"]!.AsArray().Select(b => (string)b!))), StringComparer.Ordinal);

    [Test]
    public void SrcCounterCs_GivesTheSameCountsAsTheBpfObject_OnTheSameScenario()
    {
        var bpf = Run("xdp_counter.yaml");
        var cs = Run("xdp_csharp.yaml");
        var bpfEntries = Entries(bpf);
        Assert.That(bpfEntries, Has.Count.EqualTo(4));
        Assert.That(Entries(cs), Is.EqualTo(bpfEntries), "src_counts: key -> {packets, bytes}");
        var a = bpf.Xdp!.Single(x => x.Interface == "router_left:access");
        var b = cs.Xdp!.Single(x => x.Interface == "router_left:access");
        Assert.That((b.Pass, b.Drop, b.Aborted), Is.EqualTo((a.Pass, a.Drop, a.Aborted)));
        Assert.That(b.Drop, Is.GreaterThan(0), "10.1.0.2's packets are dropped");
        Assert.That(b.Programs.Single(), Does.StartWith("xdp_src_counter_cs (link"));
        Assert.That(cs.Flows.Select(f => f.BytesAcked), Is.EqualTo(bpf.Flows.Select(f => f.BytesAcked)), "the flows see the same network");
        Assert.That(cs.Faults, Is.Empty);
    }

    [Test]
    public void Catalog_ListsTheShippedXdpProgram_WithItsKindAndOption()
    {
        var info = s_study.Catalog.Find("xdp_src_counter_cs")!;
        Assert.That((info.Kind, info.StructOpsType), Is.EqualTo((ConsumerKind.Xdp, "xdp")));
        Assert.That(ConsumerGlobals.Describe(info), Does.Contain(("drop_addr", "UInt32")));
    }
}
