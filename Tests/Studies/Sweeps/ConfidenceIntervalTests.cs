using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class ConfidenceIntervalTests
{
    [TestCase(1, 12.706)]
    [TestCase(4, 2.776)]
    [TestCase(9, 2.262)]
    [TestCase(29, 2.045)]
    public void TQuantile95_MatchesTheTable(int degreesOfFreedom, double table) =>
        Assert.That(ConfidenceInterval.TQuantile95(degreesOfFreedom), Is.EqualTo(table).Within(0.0005));

    [Test]
    public void Of_TenValues_MeanPlusMinusTTimesStandardError()
    {
        // 1..10: mean 5.5, sample standard deviation sqrt(55/6) = 3.0277, standard error 0.957427; t(9) = 2.262157, so 2.165851.
        var ci = ConfidenceInterval.Of([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Assert.That(ci.Mean, Is.EqualTo(5.5));
        Assert.That(ci.HalfWidth, Is.EqualTo(2.165851).Within(0.000001));
    }

    [Test]
    public void Of_OneValue_NoInterval() => Assert.That(ConfidenceInterval.Of([4]).HalfWidth, Is.Null);

    [Test]
    public void Of_EqualValues_ZeroWidth() => Assert.That(ConfidenceInterval.Of([3, 3, 3]).HalfWidth, Is.Zero);
}
