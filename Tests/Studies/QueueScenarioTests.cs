using BpfSim.Cli;
using BpfSim.Studies;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;
using BpfSim.Tests.Cli;

namespace BpfSim.Tests.Studies;

/// <summary>The Linux qdiscs in scenario files: keys, defaults, and errors at file:line:column.</summary>
[Category("Cli")]
public sealed class QueueScenarioTests
{
    private static readonly Study s_study = new();

    private static QueueSpec Queue(string queue) => s_study.Parse($"""
        duration: 3s
        network:
          bottleneck: {"{"} rate: 50Mbps, queue: {queue} {"}"}
        flows: [ {"{"} cc: reno {"}"} ]
        """).Spec.Network.Queue;

    [Test]
    public void TypesWithoutParameters_TakeTheKernelsDefaultLimitsAndEcn()
    {
        Assert.That((Queue("{ type: codel }").Limit, Queue("{ type: codel }").Ecn), Is.EqualTo((1000, false)));
        Assert.That((Queue("{ type: fq_codel }").Limit, Queue("{ type: fq_codel }").Ecn), Is.EqualTo((10240, true)));
        Assert.That((Queue("{ type: pie }").Limit, Queue("{ type: pie }").Ecn), Is.EqualTo((1000, false)));
        Assert.That(Queue("{ type: fq }").Limit, Is.EqualTo(10000));
        Assert.That(Queue("{ type: droptail }").Limit, Is.EqualTo(250));
    }

    [Test]
    public void Parameters_AreReadInTheirUnits()
    {
        var q = Queue("{ type: fq_codel, target: 10ms, interval: 200ms, flows: 64, quantum: 300, memory_limit: 4MB, drop_batch: 8, ecn: false, ce_threshold: 1ms }");
        Assert.That((q.Target!.Value.Nanoseconds, q.Interval!.Value.Nanoseconds, q.Flows, q.Quantum, q.MemoryLimit, q.DropBatch, q.Ecn, q.CeThreshold!.Value.Nanoseconds),
            Is.EqualTo((10_000_000L, 200_000_000L, (int?)64, (int?)300, (long?)4_000_000, (int?)8, false, 1_000_000L)));
        var f = Queue("{ type: fq, flow_limit: 50, maxrate: 10Mbps, pacing: false, horizon: 2s, horizon_drop: false, initial_quantum: 3000 }");
        Assert.That((f.FlowLimit, f.MaxRateBps, f.Pacing, f.Horizon!.Value.Nanoseconds, f.HorizonDrop, f.InitialQuantum),
            Is.EqualTo(((int?)50, (long?)10_000_000, false, 2_000_000_000L, false, (int?)3000)));
        var p = Queue("{ type: pie, target: 20ms, tupdate: 30ms, alpha: 4, beta: 16, ecn: true, bytemode: true, dq_rate_estimator: true }");
        Assert.That((p.Target!.Value.Nanoseconds, p.Tupdate!.Value.Nanoseconds, p.Alpha, p.Beta, p.Ecn, p.Bytemode, p.DqRateEstimator),
            Is.EqualTo((20_000_000L, 30_000_000L, (int?)4, (int?)16, true, true, true)));
    }

    [TestCase("fq_codel", 100, 256)] // fq_codel_change: max(256, quantum)
    [TestCase("fq_codel", 0, 256)]
    [TestCase("fq_codel", 1 << 20, 1 << 20)]
    [TestCase("fq", 100, 256)] // fq_change: clamp_t(quantum, 256, 1 << 20)
    [TestCase("fq", 2_000_000, 1 << 20)]
    public void Quantum_OutsideTheKernelsRange_IsClampedAsTheKernelDoes(string type, int given, int taken)
    {
        Assert.That(Queue($"{{ type: {type}, quantum: {given} }}").Quantum, Is.EqualTo(taken));
    }

    private static IEnumerable<TestCaseData> Broken()
    {
        const string head = "duration: 3s\nnetwork:\n  bottleneck:\n    queue: ";
        const string tail = "\nflows: [ { cc: reno } ]\n";
        yield return new TestCaseData(head + "{ type: codel, flows: 8 }" + tail, 4, 34, "flows applies to fq_codel queues, not codel").SetName("KeyOfAnotherType");
        yield return new TestCaseData(head + "{ type: fq_codel, quantum: 2000000 }" + tail, 4, 39, "quantum must be at most 1,048,576").SetName("FqCodelQuantumAbove2To20");
        yield return new TestCaseData(head + "{ type: pie, alpha: 40 }" + tail, 4, 32, "alpha must be at most 32").SetName("PieAlphaAbove32");
        yield return new TestCaseData(head + "{ type: codel, target: 5 }" + tail, 4, 35, "target").SetName("TargetWithoutUnit");
        yield return new TestCaseData(head + "{ type: codel, interval: 1ns }" + tail, 4, 37, "between 1.024us").SetName("IntervalBelowCodelResolution");
        yield return new TestCaseData(head + "{ type: fq, flow_limit: 0 }" + tail, 4, 36, "flow_limit must be at least 1").SetName("FqFlowLimitZero");
        yield return new TestCaseData(head + "{ type: fq, maxrate: fast }" + tail, 4, 33, "maxrate").SetName("FqMaxrateNotARate");
        yield return new TestCaseData(head + "{ type: fq_codel, ecn: maybe }" + tail, 4, 35, "ecn: 'maybe' is not true or false").SetName("EcnNotABoolean");
        yield return new TestCaseData(head + "{ type: sfq }" + tail, 4, 20, "expected droptail, red, ecn_threshold, codel, fq_codel, pie, fq").SetName("UnknownQueueType");
    }

    [TestCaseSource(nameof(Broken))]
    public void BrokenQueue_ExitTwo_FileLineColumnAndReason(string yaml, int line, int column, string reason)
    {
        string file = CliRun.Scenario(yaml);
        var (code, output, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain($"{file}:{line}:{column}: ").And.Contain(reason));
        Assert.That(output, Is.Empty);
    }
}
