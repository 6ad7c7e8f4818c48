using BpfSim.Core.Workloads.XdpChain;
using static BpfSim.Tests.Core.Workloads.XdpChain.XdpChainTestScenarios;

namespace BpfSim.Tests.Core.Workloads.XdpChain;

/// <summary>
/// The mprog client with <see cref="XdpChainScenario.MprogLinks"/>: entries are owned by tcx links (tcx_link_attach),
/// replaced with BPF_LINK_UPDATE (tcx_link_update) and removed with BPF_LINK_DETACH (tcx_link_release).
/// </summary>
[Category("XdpChain")]
public sealed class XdpChainMprogLinkTests
{
    [Test]
    public void SequentialChanges_WithTcxLinks_EntriesAreLinkOwnedAndInOrder()
    {
        var scenario = Scenario(60, jitter: true,
            Component("A", 10, Start(10), Stop(50)),
            Component("B", 20, Start(20), Replace(40, 1)),
            Component("C", 30, Start(1), Replace(30, 1))) with { MprogLinks = true };
        var run = new XdpChainRun(scenario, XdpChainDesign.Mprog);
        var result = run.Execute();
        var ids = new uint[8];
        var links = new uint[8];
        Assert.That(run.Bpf.ProgQuery(run.Device.Ifindex, ids, links, out uint count, out _).IsOk);
        Assert.Multiple(() =>
        {
            Assert.That(run.Failures, Is.Empty);
            Assert.That(result.Violations, Is.Zero);
            Assert.That(result.Updates, Is.EqualTo(6));
            Assert.That(run.PathNow(), Is.EqualTo(new[] { "B_v2", "C_v2" }));
            Assert.That(count, Is.EqualTo(2u));
            Assert.That(links.Take(2), Has.All.Not.Zero, "each entry is owned by a tcx link");
        });
    }
}
