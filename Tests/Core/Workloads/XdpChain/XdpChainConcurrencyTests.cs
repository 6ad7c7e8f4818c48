using System.Text.Json;
using System.Text.Json.Nodes;
using Bogus;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads.XdpChain;

namespace BpfSim.Tests.Core.Workloads.XdpChain;

/// <summary>
/// Many components starting, replacing and stopping at random, overlapping moments while packets flow: libxdp and
/// mprog promise no violation; the chain-call map cannot prevent them, and the test counts them.
/// </summary>
[Category("XdpChain")]
public sealed class XdpChainConcurrencyTests
{
    private static readonly int[] s_seeds = [1, 2, 3, 4, 5];

    /// <summary>5 to 8 components with distinct priorities, 2 or 3 versions, 15 to 30 actions each at mean gaps of 0.2 to 2 ms.</summary>
    internal static XdpChainScenario RandomScenario(int seed)
    {
        var faker = new Randomizer(seed);
        int n = faker.Int(5, 8);
        var priorities = Enumerable.Range(0, n).Select(i => 10 * (i + 1)).OrderBy(_ => faker.Int()).ToArray();
        var components = new List<ChainComponentSpec>();
        for (int i = 0; i < n; i++)
        {
            int versions = faker.Int(2, 3);
            var random = SimRandom.For((ulong)seed, $"component{i}");
            components.Add(new ChainComponentSpec
            {
                Name = $"c{i}",
                Priority = priorities[i],
                Versions = Enumerable.Range(1, versions).Select(v => new ComponentVersionSpec($"v{v}", faker.Int(10, 80))).ToArray(),
                Timeline = RandomTimeline.Generate(random, versions, faker.Int(15, 30), SimTime.FromMilliseconds(1),
                    SimTime.FromMicroseconds(faker.Int(200, 2000))),
            });
        }
        return new XdpChainScenario { Seed = (ulong)seed, Duration = SimTime.FromMilliseconds(60), PacketRate = 200_000, Components = components };
    }

    [TestCaseSource(nameof(s_seeds))]
    public void RandomChanges_Libxdp_NoViolation(int seed)
    {
        var r = XdpChainExperiment.Run(RandomScenario(seed), XdpChainDesign.Libxdp);
        TestContext.Out.WriteLine($"seed {seed}: libxdp {r.Updates} updates, {r.Retries} retries, {r.FailedUpdates} failed");
        Assert.That(r.Violations, Is.Zero, string.Join("; ", r.Listed.Take(5)));
        Assert.That(r.Updates, Is.GreaterThan(50));
    }

    [TestCaseSource(nameof(s_seeds))]
    public void RandomChanges_Mprog_NoViolation(int seed)
    {
        var r = XdpChainExperiment.Run(RandomScenario(seed), XdpChainDesign.Mprog);
        TestContext.Out.WriteLine($"seed {seed}: mprog {r.Updates} updates, {r.Retries} retries, {r.FailedUpdates} failed");
        Assert.That(r.Violations, Is.Zero, string.Join("; ", r.Listed.Take(5)));
        Assert.That(r.FailedUpdates, Is.Zero);
    }

    [TestCaseSource(nameof(s_seeds))]
    public void RandomChanges_MprogTcxLinks_NoViolation(int seed)
    {
        var r = XdpChainExperiment.Run(RandomScenario(seed) with { MprogLinks = true }, XdpChainDesign.Mprog);
        TestContext.Out.WriteLine($"seed {seed}: mprog links {r.Updates} updates, {r.Retries} retries, {r.FailedUpdates} failed");
        Assert.That(r.Violations, Is.Zero, string.Join("; ", r.Listed.Take(5)));
        Assert.That(r.FailedUpdates, Is.Zero);
        Assert.That(r.Updates, Is.GreaterThan(50));
    }

    [Test]
    public void RandomChanges_ChainCallMap_ViolatesOnSomeSeeds()
    {
        long total = 0;
        foreach (int seed in s_seeds)
        {
            var r = XdpChainExperiment.Run(RandomScenario(seed), XdpChainDesign.ChainCallMap);
            TestContext.Out.WriteLine($"seed {seed}: chain_call_map {r.Violations} violations (skipped {r.Skipped}, duplicate {r.Duplicate}, " +
                $"out of order {r.OutOfOrder}, stale {r.Stale}) in {r.Packets} packets, {r.Retries} retries");
            total += r.Violations;
        }
        Assert.That(total, Is.GreaterThan(0), "entry-by-entry updates under concurrency break the order somewhere");
    }

    [TestCaseSource(nameof(s_seeds))]
    public void RandomChanges_ChainCallMapWholeReplace_NoViolation(int seed)
    {
        var r = XdpChainExperiment.Run(RandomScenario(seed) with { ChainMapWholeReplace = true }, XdpChainDesign.ChainCallMap);
        TestContext.Out.WriteLine($"seed {seed}: chain_call_map whole_map {r.Updates} updates, {r.Retries} retries, {r.FailedUpdates} failed");
        Assert.That(r.Violations, Is.Zero, string.Join("; ", r.Listed.Take(5)));
    }

    [Test]
    public void SameSeed_GivesIdenticalJson()
    {
        var scenario = RandomScenario(3);
        string first = Json(XdpChainExperiment.Run(scenario, XdpChainExperiment.AllDesigns));
        string second = Json(XdpChainExperiment.Run(scenario, XdpChainExperiment.AllDesigns));
        Assert.That(second, Is.EqualTo(first));
    }

    /// <summary>The results as JSON without the wall-clock measurement.</summary>
    private static string Json(IReadOnlyList<XdpChainResult> results)
    {
        var array = JsonSerializer.SerializeToNode(results)!.AsArray();
        foreach (var node in array)
        {
            node!.AsObject().Remove("wall_ns_per_packet");
        }
        return array.ToJsonString();
    }
}
