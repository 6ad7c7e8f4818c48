using BpfSim.Core.Workloads.XdpChain;
using static BpfSim.Tests.Core.Workloads.XdpChain.XdpChainTestScenarios;

namespace BpfSim.Tests.Core.Workloads.XdpChain;

/// <summary>
/// Each design's user-space client against the simulated kernel's hooks: changes made one at a time leave the
/// intended order, and two changes made at the same instant make one client retry and still end right.
/// </summary>
[Category("XdpChain")]
[TestFixtureSource(nameof(Designs))]
public sealed class XdpChainClientTests(XdpChainDesign design)
{
    public static readonly XdpChainDesign[] Designs = [XdpChainDesign.ChainCallMap, XdpChainDesign.Libxdp, XdpChainDesign.Mprog];

    private (XdpChainRun Run, XdpChainResult Result) Execute(XdpChainScenario scenario)
    {
        var run = new XdpChainRun(scenario, design);
        var result = run.Execute();
        Assert.That(run.Failures, Is.Empty, "no action failed");
        return (run, result);
    }

    [Test]
    public void SequentialChanges_EachLeaveTheIntendedOrder()
    {
        // C (30) starts first, then A (10) in front of it, then B (20) between them; B and C replace, A stops.
        var scenario = Scenario(60, jitter: true,
            Component("A", 10, Start(10), Stop(50)),
            Component("B", 20, Start(20), Replace(40, 1)),
            Component("C", 30, Start(1), Replace(30, 1)));
        var (run, result) = Execute(scenario);
        Assert.Multiple(() =>
        {
            Assert.That(result.Violations, Is.Zero);
            Assert.That(result.Updates, Is.EqualTo(6));
            Assert.That(run.PathNow(), Is.EqualTo(new[] { "B_v2", "C_v2" }));
        });
    }

    [TestCase(40, new[] { "A_v1", "B_v1", "C_v1" })]
    [TestCase(15, new[] { "A_v1", "C_v1" })]
    public void SequentialChanges_PathAtTheEnd(double bStopMs, string[] expected)
    {
        // B stops at 15 ms (before the end) or at 40 ms (after it: never run).
        var scenario = Scenario(30, jitter: false,
            Component("A", 10, Start(1)),
            Component("B", 20, Start(5), Stop(bStopMs)),
            Component("C", 30, Start(10)));
        var (run, result) = Execute(scenario);
        Assert.That(result.Violations, Is.Zero);
        Assert.That(run.PathNow(), Is.EqualTo(expected));
    }

    [Test]
    public void SimultaneousStarts_OneRetriesAndBothEndInOrder()
    {
        // Identical latencies: both read the same state, both try to publish; the second must retry.
        var scenario = Scenario(10, jitter: false,
            Component("A", 10, Start(1)),
            Component("B", 20, Start(1)));
        var (run, result) = Execute(scenario);
        Assert.Multiple(() =>
        {
            Assert.That(result.Retries, Is.GreaterThanOrEqualTo(1), "a concurrent change made a client retry");
            Assert.That(run.PathNow(), Is.EqualTo(new[] { "A_v1", "B_v1" }));
            Assert.That(result.Updates, Is.EqualTo(2));
        });
    }

    [Test]
    public void SimultaneousStarts_WithNoRetriesAllowed_OneGivesUp_AndSaysSo()
    {
        var scenario = Scenario(10, jitter: false,
            Component("A", 10, Start(1)),
            Component("B", 20, Start(1))) with { MaxRetries = 0 };
        var run = new XdpChainRun(scenario, design);
        run.Execute();
        Assert.That(run.Failures, Has.Count.EqualTo(1));
        Assert.That(run.Failures[0], Does.Contain("gave up after 0 retries: "), "the give-up, not only the last error");
    }

    [Test]
    public void SimultaneousReplaceAndStart_EndInOrder()
    {
        var scenario = Scenario(20, jitter: false,
            Component("A", 10, Start(1), Replace(10, 1)),
            Component("B", 20, Start(2), Replace(10, 1)),
            Component("C", 30, Start(10)));
        var (run, result) = Execute(scenario);
        if (design == XdpChainDesign.ChainCallMap)
        {
            // Three changes at 10 ms touch different entries, so no expected-value check sees the others: the lost
            // update leaves a path that is not the intended one, and packets after it count as violations.
            Assert.That(run.PathNow(), Is.Not.EqualTo(new[] { "A_v2", "B_v2", "C_v1" }), string.Join(",", run.PathNow()));
            Assert.That(result.Violations, Is.GreaterThan(0));
            return;
        }
        Assert.That(run.PathNow(), Is.EqualTo(new[] { "A_v2", "B_v2", "C_v1" }));
    }
}

/// <summary>The per-packet path of the experiment (hook run, observer, cost, checker) allocates nothing.</summary>
[Category("XdpChain")]
public sealed class XdpChainPacketPathTests
{
    [TestCase(XdpChainDesign.ChainCallMap)]
    [TestCase(XdpChainDesign.Libxdp)]
    [TestCase(XdpChainDesign.Mprog)]
    public void ProcessPacket_ThreeAttachedPrograms_AllocatesNothing(XdpChainDesign design)
    {
        var run = new XdpChainRun(Scenario(10, jitter: false,
            Component("A", 10, Start(1)), Component("B", 20, Start(2)), Component("C", 30, Start(3))), design);
        run.Execute();
        run.Bpf.PacketObserver = run.Observer;
        var now = run.Bpf.Simulator.Now;
        run.ProcessPacket(now); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            run.ProcessPacket(now);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(run.PathNow(), Has.Count.EqualTo(3));
    }
}
