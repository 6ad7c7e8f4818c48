using BpfSim.Core.Workloads.XdpChain;
using BpfSim.Studies.Scenarios;

namespace BpfSim.Tests.Studies.Scenarios;

/// <summary>The xdp-chain scenario file: the embedded default parses, and mistakes are reported at file:line:col.</summary>
[Category("XdpChain")]
public sealed class XdpChainScenarioParserTests
{
    private const string Minimal = """
        components:
          - name: A
            priority: 10
            versions: [ { name: v1, cost: 30ns }, { name: v2 } ]
            timeline:
              - { at: 1ms, action: start, version: v1 }
              - { at: 2ms, action: replace, version: v2 }
              - { at: 3ms, action: stop }
        """;

    private static ScenarioError[] Errors(string yaml) =>
        Assert.Throws<ScenarioException>(() => new XdpChainScenarioParser("s.yaml").Parse(yaml))!.Errors.ToArray();

    [Test]
    public void Parse_EmbeddedDefault_IsTheAbScenario()
    {
        var s = new XdpChainScenarioParser("default").Parse(XdpChainScenarioParser.DefaultText());
        Assert.Multiple(() =>
        {
            Assert.That(s.Components.Select(c => c.Name), Is.EqualTo(new[] { "A", "B" }));
            Assert.That(s.Components[0].Priority, Is.LessThan(s.Components[1].Priority), "A runs before B");
            Assert.That(s.Components.SelectMany(c => c.Timeline).Select(a => a.Kind).Distinct().Count(), Is.EqualTo(3));
        });
    }

    [Test]
    public void Parse_ShippedFile_EqualsEmbeddedDefault()
    {
        string shipped = Path.Combine(TestContext.CurrentContext.TestDirectory, "../../../../scenarios/experiments/xdp_chain_ab.yaml");
        Assert.That(File.ReadAllText(shipped), Is.EqualTo(XdpChainScenarioParser.DefaultText()));
    }

    [Test]
    public void Parse_Minimal_ReadsVersionsAndTimeline()
    {
        var s = new XdpChainScenarioParser("s.yaml").Parse(Minimal);
        var a = s.Components[0];
        Assert.Multiple(() =>
        {
            Assert.That(a.Versions[0].CostNs, Is.EqualTo(30));
            Assert.That(a.Timeline.Select(t => (t.Kind, t.Version)),
                Is.EqualTo(new[] { (ComponentActionKind.Start, 0), (ComponentActionKind.Replace, 1), (ComponentActionKind.Stop, 0) }));
            Assert.That(a.Timeline[1].At.TotalMilliseconds, Is.EqualTo(2));
        });
    }

    [Test]
    public void Parse_MprogLinks_DefaultsToProgAttachAndReadsTrue()
    {
        Assert.That(new XdpChainScenarioParser("s.yaml").Parse(Minimal).MprogLinks, Is.False);
        Assert.That(new XdpChainScenarioParser("s.yaml").Parse("mprog_links: true\n" + Minimal).MprogLinks, Is.True);
    }

    [Test]
    public void Parse_UnknownVersion_IsReportedAtItsLine()
    {
        var e = Errors(Minimal.Replace("replace, version: v2", "replace, version: v9"));
        Assert.That(e.Single().ToString(), Does.StartWith("s.yaml:7:").And.Contain("v1, v2"));
    }

    [Test]
    public void Parse_ReplaceBeforeStart_IsReported()
    {
        var e = Errors(Minimal.Replace("action: start, version: v1", "action: replace, version: v1"));
        Assert.That(e[0].Message, Does.Contain("while not started"));
        Assert.That(e[0].Line, Is.EqualTo(6));
    }

    [Test]
    public void Parse_UnknownKey_NamesTheAllowedOnes()
    {
        var e = Errors("speed: 3\n" + Minimal);
        Assert.That(e.Single().ToString(), Does.StartWith("s.yaml:1:1:").And.Contain("packet_rate"));
    }

    [Test]
    public void Parse_TimeWithoutUnit_IsReported()
    {
        var e = Errors(Minimal.Replace("at: 3ms", "at: 3"));
        Assert.That(e.Single().Message, Does.Contain("no unit"));
    }

    [Test]
    public void Parse_RandomTimeline_IsSeededAndValid()
    {
        const string yaml = """
            seed: 7
            components:
              - name: A
                versions: [ { name: v1 }, { name: v2 } ]
                random_timeline: { actions: 30, from: 1ms, mean_gap: 2ms }
            """;
        var one = new XdpChainScenarioParser("s.yaml").Parse(yaml);
        var two = new XdpChainScenarioParser("s.yaml").Parse(yaml);
        Assert.That(one.Components[0].Timeline, Has.Count.EqualTo(30));
        Assert.That(two.Components[0].Timeline, Is.EqualTo(one.Components[0].Timeline));
        Assert.DoesNotThrow(one.Validate);
    }
}
