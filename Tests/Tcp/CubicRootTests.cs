using System.Runtime.CompilerServices;
using BpfSim.Tcp.Congestion;
using Bogus;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// cubic_root and the precomputed factors of net/ipv4/tcp_cubic.c. The kernel's root is a table lookup on the top
/// six bits plus one Newton-Raphson step in integer arithmetic, documented as "avg err ~= 0.195%".
/// </summary>
[Category("Tcp")]
public sealed class CubicRootTests
{
    [Test]
    public void Factors_MatchTheKernelsIntegerArithmetic()
    {
        Assert.That(CubicMath.BetaScaleFriendly, Is.EqualTo(15u), "8·1741/3/307 truncated at each step");
        Assert.That(CubicMath.CubeRttScale, Is.EqualTo(410u));
        Assert.That(CubicMath.CubeFactor, Is.EqualTo(2681735677UL), "2^40 / 410");
        Assert.That(Unsafe.SizeOf<CubicState>(), Is.EqualTo(60).And.LessThanOrEqualTo(104), "BUILD_BUG_ON(sizeof(struct bictcp) > ICSK_CA_PRIV_SIZE)");
    }

    // Values computed by hand from the table and the Newton step (x·(x−1) for x², ·341 >> 10 for /3).
    [TestCase(0UL, 0u)]
    [TestCase(1UL, 1u)]
    [TestCase(8UL, 2u)]
    [TestCase(27UL, 3u)]
    [TestCase(63UL, 4u)]
    [TestCase(64UL, 4u)]
    [TestCase(125UL, 5u)]
    [TestCase(2681735677UL * 30, 4316u)]
    public void CubicRoot_KnownInputs(ulong a, uint expected) => Assert.That(CubicMath.CubicRoot(a), Is.EqualTo(expected));

    /// <summary>
    /// Over the whole u64 range the result is within one unit (the integer truncations) plus 0.2% (a six-bit first
    /// guess refined by one Newton step) of the true cube root.
    /// </summary>
    [Test]
    public void CubicRoot_RandomU64_WithinOneUnitPlusPointTwoPercent()
    {
        var r = new Randomizer(20240611);
        for (int i = 0; i < 200_000; i++)
        {
            // Log-uniform: a random bit length, then random bits below it.
            int bits = r.Int(1, 64);
            ulong a = r.ULong() >> (64 - bits);
            double truth = Math.Cbrt(a);
            double x = CubicMath.CubicRoot(a);
            if (Math.Abs(x - truth) > 1 + 0.002 * truth)
            {
                Assert.Fail($"cubic_root({a}) = {x}, cbrt = {truth}");
            }
        }
    }

    /// <summary>
    /// Where CUBIC uses it, a = cube_factor·(W_max − cwnd) for gaps of 1 to a million packets: every result is
    /// within 0.2% and the mean error is below the kernel's 0.195%.
    /// </summary>
    [Test]
    public void CubicRoot_CubicsOperatingRange_MeanErrorBelowKernelsFigure()
    {
        var bogus = new Randomizer(7);
        double sum = 0, worst = 0;
        const int N = 50_000;
        for (int i = 0; i < N; i++)
        {
            ulong gap = (ulong)Math.Exp(bogus.Double(0, Math.Log(1_000_000)));
            ulong a = CubicMath.CubeFactor * Math.Max(gap, 1);
            double truth = Math.Cbrt(a);
            double err = Math.Abs(CubicMath.CubicRoot(a) - truth) / truth;
            sum += err;
            worst = Math.Max(worst, err);
        }
        Assert.That(worst, Is.LessThan(0.002));
        Assert.That(sum / N, Is.LessThan(0.00195));
    }
}
