using System.Numerics;
using System.Runtime.CompilerServices;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Fair;

/// <summary>
/// The fixed-point arithmetic of the fair class, bit for bit as the kernel does it on 64-bit: load weights
/// (sched_prio_to_weight / sched_prio_to_wmult in kernel/sched/core.c, set_load_weight), scale_load_down and
/// __calc_delta / calc_delta_fair (kernel/sched/fair.c), and the base slice with its tunable scaling.
/// </summary>
public static class FairMath
{
    /// <summary>SCHED_FIXEDPOINT_SHIFT: load weights carry 10 extra bits on 64-bit (scale_load).</summary>
    public const int FixedPointShift = 10;

    /// <summary>NICE_0_LOAD: the weight of a nice-0 task, 1024 scaled (1 &lt;&lt; 20).</summary>
    public const ulong Nice0Load = 1024UL << FixedPointShift;

    /// <summary>WEIGHT_IDLEPRIO (kernel/sched/sched.h): the unscaled weight of a SCHED_IDLE task.</summary>
    public const ulong WeightIdlePrio = 3;

    /// <summary>WMULT_IDLEPRIO: 2^32 / 3.</summary>
    public const uint WmultIdlePrio = 1431655765;

    /// <summary>normalized_sysctl_sched_base_slice as this tree (6.12 with backports) has it: 0.70 ms.</summary>
    public const ulong NormalizedBaseSliceNs = 700_000;

    private const uint WmultConst = uint.MaxValue;
    private const int WmultShift = 32;

    /// <summary>
    /// set_load_weight (kernel/sched/core.c): <see cref="SchedPrio.SetLoadWeight"/>'s sched_prio_to_weight /
    /// sched_prio_to_wmult by nice, except that a SCHED_IDLE task weighs WEIGHT_IDLEPRIO (3, scaled) whatever its nice.
    /// </summary>
    public static void SetLoadWeight(ref TaskStruct p)
    {
        SchedPrio.SetLoadWeight(ref p);
        if (p.Policy == (uint)SchedPolicy.Idle)
        {
            p.Se.Weight = WeightIdlePrio << FixedPointShift;
            p.Se.InvWeight = WmultIdlePrio;
        }
    }

    /// <summary>scale_load_down: drop the fixed-point bits, but never below 2 for a non-zero weight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ScaleLoadDown(ulong w) => w == 0 ? 0 : Math.Max(2UL, w >> FixedPointShift);

    /// <summary>__update_inv_weight: the inverse weight the kernel computes when none is cached.</summary>
    public static uint InvWeightOf(ulong weight)
    {
        ulong w = ScaleLoadDown(weight);
        if (w >= WmultConst)
        {
            return 1;
        }
        return w == 0 ? WmultConst : (uint)(WmultConst / w);
    }

    /// <summary>
    /// __calc_delta (kernel/sched/fair.c): <paramref name="deltaExec"/> × <paramref name="weight"/> / lw.weight computed as
    /// (delta × (weight × lw.inv_weight)) &gt;&gt; 32, with the kernel's shift reductions so the factor fits 32 bits.
    /// </summary>
    public static ulong CalcDelta(ulong deltaExec, ulong weight, ulong lwWeight, uint lwInvWeight)
    {
        ulong fact = ScaleLoadDown(weight);
        uint inv = lwInvWeight != 0 ? lwInvWeight : InvWeightOf(lwWeight);
        int shift = WmultShift;
        uint factHi = (uint)(fact >> 32);
        if (factHi != 0)
        {
            int fs = 32 - BitOperations.LeadingZeroCount(factHi);
            shift -= fs;
            fact >>= fs;
        }
        fact = (ulong)(uint)fact * inv;
        factHi = (uint)(fact >> 32);
        if (factHi != 0)
        {
            int fs = 32 - BitOperations.LeadingZeroCount(factHi);
            shift -= fs;
            fact >>= fs;
        }
        return MulU64U32Shr(deltaExec, (uint)fact, shift);
    }

    /// <summary>calc_delta_fair: <paramref name="delta"/> × NICE_0_LOAD / se.load.weight (unchanged for nice 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong CalcDeltaFair(ulong delta, ulong weight, uint invWeight) =>
        weight == Nice0Load ? delta : CalcDelta(delta, Nice0Load, weight, invWeight);

    /// <summary>mul_u64_u32_shr: the 96-bit product shifted right, truncated to 64 bits.</summary>
    public static ulong MulU64U32Shr(ulong a, uint mul, int shift)
    {
        ulong hi = Math.BigMul(a, mul, out ulong lo);
        if (shift == 0)
        {
            return lo;
        }
        return (hi << (64 - shift)) | (lo >> shift);
    }

    /// <summary>
    /// get_update_sysctl_factor for SCHED_TUNABLESCALING_LOG (the default): 1 + ilog2(min(online CPUs, 8)).
    /// </summary>
    public static uint TunableFactor(int onlineCpus)
    {
        uint cpus = (uint)Math.Clamp(onlineCpus, 1, 8);
        return 1 + (uint)BitOperations.Log2(cpus);
    }

    /// <summary>sysctl_sched_base_slice after update_sysctl: the normalized slice × <see cref="TunableFactor"/>.</summary>
    public static ulong BaseSliceNs(int onlineCpus) => TunableFactor(onlineCpus) * NormalizedBaseSliceNs;
}
