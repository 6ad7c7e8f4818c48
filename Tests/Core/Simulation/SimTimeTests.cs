using BpfSim.Core.Simulation;
using Bogus;

namespace BpfSim.Tests.Core.Simulation;

[Category("Core")]
public sealed class SimTimeTests
{
    [TestCase("250us", 250_000L)]
    [TestCase("10ms", 10_000_000L)]
    [TestCase("1.5s", 1_500_000_000L)]
    [TestCase("100ns", 100L)]
    [TestCase("0", 0L)]
    [TestCase("0.25ms", 250_000L)]
    [TestCase(" 2s ", 2_000_000_000L)]
    public void Parse_NumberWithUnit_GivesNanoseconds(string text, long ns) =>
        Assert.That(SimTime.Parse(text).Nanoseconds, Is.EqualTo(ns));

    [TestCase("10", "no unit")]
    [TestCase("ms", "not a non-negative number")]
    [TestCase("10 parsecs", "unknown unit")]
    [TestCase("-5ms", "not a non-negative number")]
    [TestCase("1.0000000001s", "finer than one nanosecond")]
    [TestCase("", "empty")]
    [TestCase("99999999999s", "too large")]
    public void Parse_Malformed_ThrowsWithReason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => SimTime.Parse(text));
        Assert.That(e!.Message, Does.Contain(reason));
    }

    [TestCase(1_500_000_000L, "1.5s")]
    [TestCase(250_000L, "250us")]
    [TestCase(10_000_000L, "10ms")]
    [TestCase(0L, "0s")]
    [TestCase(999L, "999ns")]
    [TestCase(1_000_001L, "1.000001ms")]
    public void ToString_UsesLargestUnitExactly(long ns, string text) =>
        Assert.That(new SimTime(ns).ToString(), Is.EqualTo(text));

    [Test]
    public void ToStringThenParse_RoundTripsRandomTimes()
    {
        var random = new Randomizer(20261122);
        for (int i = 0; i < 2000; i++)
        {
            var t = new SimTime(random.Long(0, 1_000_000_000_000_000L));
            Assert.That(SimTime.Parse(t.ToString()), Is.EqualTo(t), t.ToString());
        }
    }
}
