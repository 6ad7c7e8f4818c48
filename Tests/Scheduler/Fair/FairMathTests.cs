using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>calc_delta_fair, the load weights and the base slice against values worked out by hand from fair.c.</summary>
public sealed class FairMathTests
{
    [Test]
    public void CalcDeltaFair_Nice5_ScalesByWmult12820798WithTheKernelsShift()
    {
        // fact = scale_load_down(NICE_0_LOAD) = 1024; 1024 × 12820798 = 13128497152 needs 34 bits: fact_hi = 3,
        // fls(3) = 2, so shift = 32 − 2 = 30 and fact = 13128497152 >> 2 = 3282124288;
        // (1 000 000 × 3282124288) >> 30 = 3056716 (exact 1 000 000 × 1024 / 335 = 3056716.4).
        Assert.That(FairMath.CalcDeltaFair(1_000_000, 335UL << 10, 12820798), Is.EqualTo(3056716UL));
        // The 0.70 ms slice of a nice-5 task in virtual time: (700 000 × 3282124288) >> 30.
        Assert.That(FairMath.CalcDeltaFair(700_000, 335UL << 10, 12820798), Is.EqualTo(2139701UL));
    }

    [Test]
    public void CalcDeltaFair_Nice0_IsTheIdentity()
    {
        Assert.That(FairMath.CalcDeltaFair(123_456_789, FairMath.Nice0Load, 4194304), Is.EqualTo(123_456_789UL));
    }

    [Test]
    public void CalcDeltaFair_NiceMinus20_NeedsNoShiftReduction()
    {
        // 1024 × 48388 = 49549312 fits 32 bits: (1 000 000 × 49549312) >> 32 = 11536 (exact 11536.6).
        Assert.That(FairMath.CalcDeltaFair(1_000_000, 88761UL << 10, 48388), Is.EqualTo(11536UL));
    }

    [Test]
    public void CalcDelta_WithoutCachedInverse_ComputesWmultConstOverWeight()
    {
        // __update_inv_weight: inv = 0xFFFFFFFF / 335 = 12820797 (the table rounds 2^32 / 335 up to 12820798); the
        // product 1024 × 12820797 still needs the 2-bit reduction and gives the same 3056716.
        Assert.That(FairMath.InvWeightOf(335UL << 10), Is.EqualTo(12820797u));
        Assert.That(FairMath.CalcDelta(1_000_000, FairMath.Nice0Load, 335UL << 10, 0), Is.EqualTo(3056716UL));
    }

    [Test]
    public void SetLoadWeight_UsesPrioToWeightScaledBy1024_AndIdlePrioForSchedIdle()
    {
        var tasks = new TaskTable();
        ref var p = ref tasks.Add(1, "t", 5, BpfSim.Scheduler.Kernel.Cpumask.FirstN(1));
        FairMath.SetLoadWeight(ref p);
        Assert.That((p.Se.Weight, p.Se.InvWeight), Is.EqualTo((335UL * 1024, 12820798u)));
        p.Policy = (uint)SchedPolicy.Idle;
        FairMath.SetLoadWeight(ref p);
        Assert.That((p.Se.Weight, p.Se.InvWeight), Is.EqualTo((3UL * 1024, 1431655765u)));
    }

    [TestCase(1, 700_000UL)]
    [TestCase(2, 1_400_000UL)]
    [TestCase(4, 2_100_000UL)]
    [TestCase(8, 2_800_000UL)]
    [TestCase(64, 2_800_000UL)]
    public void BaseSlice_IsScaledLogarithmically_CappedAtEightCpus(int cpus, ulong slice)
    {
        // SCHED_TUNABLESCALING_LOG: 0.70 ms (this tree's normalized_sysctl_sched_base_slice) × (1 + ilog2(min(cpus, 8))).
        Assert.That(FairMath.BaseSliceNs(cpus), Is.EqualTo(slice));
    }
}
