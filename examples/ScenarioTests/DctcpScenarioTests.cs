using BpfSim.Studies;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;
using BpfSim.Core.Simulation;
using NUnit.Framework;

namespace ScenarioTests;

public sealed class DctcpScenarioTests
{
    // One study serves every test: it holds the runtime, both subsystems and the built-in consumers.
    private static readonly Study s_study = new();

    private static string File(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, name);

    [Test]
    public void YamlScenario_EveryFlowDeliversAndTheMapIsFreed()
    {
        var outcome = s_study.Run(s_study.Load(File("dctcp_vs_cubic.yaml")));

        Assert.That(outcome.Errors, Is.Empty);
        var tcp = outcome.Tcp!;
        Assert.That(tcp.Flows, Has.Count.EqualTo(4));
        Assert.That(tcp.Flows.Select(f => f.BytesAcked), Has.All.GreaterThan(0));
        // Stopped at 3 s: the socket closes then, and the flow ends when its FIN is acknowledged, a few RTTs later.
        Assert.That(tcp.Flows.Where(f => f.Cc == "bpf_dctcp").Select(f => f.EndSeconds), Has.All.InRange(3.0, 3.2));

        // The struct_ops map: loaded (INIT), registered at 0 s (INUSE), unregistered at 4 s (TOBEFREE), freed once its
        // last socket is gone.
        var map = tcp.StructOps.Single(m => m.Name == "bpf_dctcp");
        Assert.That(map.Transitions.Select(t => t.State), Is.EqualTo(new[] { "INIT", "INUSE", "TOBEFREE" }));
        Assert.That((map.RefCountMax, map.RefCountFinal, map.Freed), Is.EqualTo((3L, 0L, true)));
    }

    [Test]
    public void ScenarioBuiltInCode_DctcpKeepsTheQueueNearK()
    {
        var network = new NetworkSpec
        {
            BottleneckRateBps = 100_000_000,
            BottleneckDelay = SimTime.FromMilliseconds(5),
            Queue = new QueueSpec { Kind = QueueKind.EcnThreshold, K = 20, Limit = 250 },
        };
        TcpScenarioSpec Spec(string cc) => new()
        {
            Duration = SimTime.FromSeconds(5),
            Network = network,
            Flows = [new FlowSpec { Count = 2, Cc = cc }],
        };

        var dctcp = s_study.Run(s_study.FromSpec(Spec("dctcp"), "dctcp")).Tcp!;
        var cubic = s_study.Run(s_study.FromSpec(Spec("cubic"), "cubic")).Tcp!;

        // DCTCP backs off in proportion to the marks above K = 20 packets; CUBIC, without ECN, fills the queue.
        Assert.That(dctcp.Links[0].QueuePacketsMean, Is.LessThan(40));
        Assert.That(cubic.Links[0].QueuePacketsMean, Is.GreaterThan(2 * dctcp.Links[0].QueuePacketsMean));
        Assert.That(dctcp.Links[0].Utilization, Is.GreaterThan(0.9));
    }

    [Test]
    public void TimeSeries_CwndIsSampledForEveryFlow()
    {
        var outcome = s_study.Run(s_study.Load(File("dctcp_vs_cubic.yaml")));

        var cwnd = outcome.Tcp!.Samples.Points().Where(p => p.Metric == "cwnd").ToList();
        Assert.That(cwnd.Select(p => p.Subject).Distinct().Count(), Is.EqualTo(4));
        Assert.That(cwnd.Max(p => p.Value), Is.GreaterThan(10));
    }

    [Test]
    public void BadScenario_SaysWhereTheProblemIs()
    {
        var e = Assert.Throws<ScenarioException>(() => s_study.Parse("duration: 5s\nflows:\n  - { count: 2, cc: no_such_cc }\n", "bad.yaml"));

        Assert.That(e!.Errors[0].ToString(), Does.StartWith("bad.yaml:3:"));
        Assert.That(e.Errors[0].ToString(), Does.Contain("no_such_cc"));
    }
}
