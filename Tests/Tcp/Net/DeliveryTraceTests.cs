using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Reading Mahimahi traces with mm-link's checks (LinkQueue::LinkQueue in src/frontend/link_queue.cc).</summary>
[Category("Tcp")]
public sealed class DeliveryTraceTests
{
    [Test]
    public void OneLineOfOne_IsAnMtuPerMillisecond_12Mbps()
    {
        var trace = DeliveryTrace.Parse("1\n", "t");
        Assert.That((trace.Count, trace.PeriodMs), Is.EqualTo((1, 1L)));
        Assert.That(trace.MeanRateBps, Is.EqualTo(12_000_000));
        Assert.That(trace.OpportunitiesBetween(0, 1000), Is.EqualTo(999)); // at 1, 2, … 999 ms
    }

    [Test]
    public void RepeatedValues_AreSeveralOpportunitiesInOneMillisecond()
    {
        var trace = DeliveryTrace.Parse("2\n2\n2\n4\n", "t");
        Assert.That(trace.OpportunitiesBetween(2, 3), Is.EqualTo(3));
        Assert.That(trace.MeanRateBps, Is.EqualTo(12_000_000)); // 4 lines over a 4 ms period
    }

    [TestCase("1\n\n2\n", 2, "invalid empty line", TestName = "EmptyLine_IsRefusedAtItsLine")]
    [TestCase("1\n3\n2\n", 3, "monotonically nondecreasing", TestName = "DecreasingValue_IsRefusedAtItsLine")]
    [TestCase("", 1, "no valid timestamps", TestName = "EmptyFile_IsRefused")]
    [TestCase("0\n0\n", 2, "nonzero amount of time", TestName = "LastValueZero_IsRefused")]
    [TestCase("1\n2 # comment\n", 2, "not a whole number", TestName = "TextAfterTheNumber_IsRefused")]
    [TestCase("1\n-4\n", 2, "not a whole number", TestName = "NegativeValue_IsRefused")]
    [TestCase("1\n2\n\n", 3, "invalid empty line", TestName = "TwoNewlinesAtTheEnd_AreAnEmptyLine")]
    public void BadTrace_IsRefused_WithTheLine(string text, int line, string reason)
    {
        var e = Assert.Throws<DeliveryTraceException>(() => DeliveryTrace.Parse(text, "x.down"))!;
        Assert.That((e.File, e.Line), Is.EqualTo(("x.down", line)));
        Assert.That(e.Message, Does.StartWith($"x.down:{line}: ").And.Contain(reason));
    }

    [Test]
    public void CrLfLineEnds_AndNoFinalNewline_AreRead()
    {
        Assert.That(DeliveryTrace.Parse("1\r\n2\r\n3", "t").ToText(), Is.EqualTo("1\n2\n3\n"));
    }

    [Test]
    public void Generator_SpacesAConstantRate_AndClosesThePeriod()
    {
        // 6 Mbit/s: an MTU every other millisecond; 18 Mbit/s: 3 every 2 ms.
        Assert.That(DeliveryTraceGenerator.Constant(6_000_000, 10, "t").ToText(), Is.EqualTo("2\n4\n6\n8\n10\n"));
        Assert.That(DeliveryTraceGenerator.Constant(18_000_000, 4, "t").ToText(), Is.EqualTo("1\n2\n2\n3\n4\n4\n"));
        // Nothing to deliver at the end: one opportunity marks the period's end, or the loop would come early.
        Assert.That(DeliveryTraceGenerator.Steps([(2, 12_000_000), (5, 0)], "t").ToText(), Is.EqualTo("1\n2\n5\n"));
    }
}
