using BpfSim.Studies.Traces;

namespace BpfSim.Tests.Studies.Traces;

/// <summary>
/// Drops and marks the Linux qdiscs make inside the queue (CoDel at dequeue, fq_codel's batch drop) are traced like
/// arrival drops: the trace's queue records still count exactly the summary's drops and ecn_marks.
/// </summary>
[Category("Traces")]
public sealed class QueueTraceTests
{
    private const string Codel = """
        seed: 1
        duration: 3s
        network:
          bottleneck: { rate: 50Mbps, delay: 10ms, queue: { type: codel } }
        flows:
          - { count: 4, cc: cubic }
        """;

    private const string FqCodelSmall = """
        seed: 2
        duration: 3s
        ecn: 1
        network:
          bottleneck: { rate: 50Mbps, delay: 10ms, queue: { type: fq_codel, limit: 60 } }
        flows:
          - { count: 4, cc: cubic }
        """;

    [TestCase(Codel)]
    [TestCase(FqCodelSmall)]
    public void QueueRecords_CountTheSummarysDropsAndMarks(string yaml)
    {
        var (outcome, dir) = TraceRunTests.Traced(yaml);
        var records = TraceReader.ReadRecords(dir)["queue"];
        var eventAt = TraceSchema.Records.Single(r => r.Name == "queue").Fields.ToList().FindIndex(f => f.Name == "event");
        var link = outcome.Tcp!.Links.Single();
        Assert.That(link.Drops + link.EcnMarks, Is.GreaterThan(0));
        Assert.That(records.Count(r => (string)r[eventAt]! == "drop"), Is.EqualTo(link.Drops));
        Assert.That(records.Count(r => (string)r[eventAt]! == "mark"), Is.EqualTo(link.EcnMarks));
    }
}
