using System.Numerics;
using System.Runtime.CompilerServices;

namespace BpfSim.Scheduler.Fair;

/// <summary>
/// Per-entity load tracking's arithmetic (kernel/sched/pelt.c and pelt.h, 6.12), integer for integer: history in
/// 1024 µs periods, each period's contribution decayed by y per period with y^32 = 1/2, time counted in 1024 ns units.
/// </summary>
public static class Pelt
{
    /// <summary>LOAD_AVG_PERIOD: the half-life in periods.</summary>
    public const int LoadAvgPeriod = 32;

    /// <summary>LOAD_AVG_MAX: the sum of an entity that was always running, 1024 × Σ y^n (converged integer series).</summary>
    public const uint LoadAvgMax = 47742;

    /// <summary>PELT_MIN_DIVIDER: the divider at the very start of a period.</summary>
    public const uint MinDivider = LoadAvgMax - 1024;

    /// <summary>SCHED_CAPACITY_SHIFT / SCHED_CAPACITY_SCALE: a CPU's full capacity.</summary>
    public const int CapacityShift = 10;

    /// <summary>UTIL_AVG_UNCHANGED: util_est's flag bit, set at enqueue and cleared when util_avg next changes.</summary>
    public const uint UtilAvgUnchanged = 0x80000000;

    // runnable_avg_yN_inv: floor((2^32 − 1) · y^n) for n < 32, equal to the kernel's sched-pelt.h table. A double gives
    // each within one; the integer test c^32 · 2^n ≤ (2^32 − 1)^32 < (c + 1)^32 · 2^n then fixes the floor exactly, so
    // no platform's libm can change a bit of it (64 powers, where a binary search for each root took 35 ms at start-up).
    private static readonly uint[] YnInv = BuildYnInv();

    private static uint[] BuildYnInv()
    {
        var table = new uint[LoadAvgPeriod];
        var max = BigInteger.Pow(uint.MaxValue, LoadAvgPeriod);
        for (int n = 0; n < LoadAvgPeriod; n++)
        {
            ulong c = (ulong)(uint.MaxValue * Math.Pow(2, -n / (double)LoadAvgPeriod));
            while (c > 0 && BigInteger.Pow(c, LoadAvgPeriod) << n > max)
            {
                c--;
            }
            while (BigInteger.Pow(c + 1, LoadAvgPeriod) << n <= max)
            {
                c++;
            }
            table[n] = (uint)c;
        }
        return table;
    }

    /// <summary>runnable_avg_yN_inv[n]: y^n in 32-bit fixed point, n &lt; 32.</summary>
    public static uint YInv(int n) => YnInv[n];

    /// <summary>get_pelt_divider: the largest sum possible at the sum's position in its period.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Divider(in SchedAvg sa) => MinDivider + sa.PeriodContrib;

    /// <summary>decay_load: <paramref name="val"/> × y^<paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong DecayLoad(ulong val, ulong n)
    {
        if (n > LoadAvgPeriod * 63)
        {
            return 0;
        }
        uint local = (uint)n;
        if (local >= LoadAvgPeriod)
        {
            val >>= (int)(local / LoadAvgPeriod);
            local %= LoadAvgPeriod;
        }
        // mul_u64_u32_shr(val, inv, 32) with the 96-bit product kept
        ulong hi = Math.BigMul(val, YnInv[local], out ulong lo);
        return (hi << 32) | (lo >> 32);
    }

    /// <summary>__accumulate_pelt_segments: d1 decayed over the periods, the full periods between, d3 undecayed.</summary>
    private static uint AccumulateSegments(ulong periods, uint d1, uint d3)
    {
        uint c1 = (uint)DecayLoad(d1, periods);
        uint c2 = periods < FullPeriodsTableSize ? FullPeriods[periods] : FullPeriodsContribution(periods);
        return c1 + c2 + d3;
    }

    /// <summary>c2 of __accumulate_pelt_segments: the full periods between the first and the last, 1024 × Σ y^1..y^(p−1).</summary>
    private static uint FullPeriodsContribution(ulong periods) => LoadAvgMax - (uint)DecayLoad(LoadAvgMax, periods) - 1024;

    // c2 for the period counts a tick or a short sleep crosses, computed once by the same formula: a busy CPU's every
    // tick crosses one period, and the task's and its cfs_rq's updates each needed this product.
    private const int FullPeriodsTableSize = 64;
    private static readonly uint[] FullPeriods = BuildFullPeriods();

    private static uint[] BuildFullPeriods()
    {
        var table = new uint[FullPeriodsTableSize];
        for (int p = 1; p < table.Length; p++)
        {
            table[p] = FullPeriodsContribution((ulong)p);
        }
        return table;
    }

    /// <summary>accumulate_sum: decay the sums over the periods crossed, then add this segment; returns the periods.</summary>
    private static ulong AccumulateSum(ulong delta, ref SchedAvg sa, ulong load, ulong runnable, bool running)
    {
        uint contrib = (uint)delta; // no period crossed: delta < 1024
        delta += sa.PeriodContrib;
        ulong periods = delta / 1024;
        if (periods != 0)
        {
            sa.LoadSum = DecayLoad(sa.LoadSum, periods);
            sa.RunnableSum = DecayLoad(sa.RunnableSum, periods);
            sa.UtilSum = (uint)DecayLoad(sa.UtilSum, periods);
            delta %= 1024;
            if (load != 0)
            {
                contrib = AccumulateSegments(periods, 1024 - sa.PeriodContrib, (uint)delta);
            }
        }
        sa.PeriodContrib = (uint)delta;
        if (load != 0)
        {
            sa.LoadSum += load * contrib;
        }
        if (runnable != 0)
        {
            sa.RunnableSum += (runnable * contrib) << CapacityShift;
        }
        if (running)
        {
            sa.UtilSum += contrib << CapacityShift;
        }
        return periods;
    }

    /// <summary>
    /// ___update_load_sum: bring the sums from last_update_time to <paramref name="now"/> (ns) with the state held since
    /// (load weight, runnable count, running); true when a period boundary was crossed and the averages are due.
    /// </summary>
    public static bool UpdateLoadSum(ulong now, ref SchedAvg sa, ulong load, ulong runnable, bool running)
    {
        ulong delta = now - sa.LastUpdateTime;
        if ((long)delta < 0)
        {
            sa.LastUpdateTime = now;
            return false;
        }
        delta >>= 10; // 1024 ns stands for a µs
        if (delta == 0)
        {
            return false;
        }
        sa.LastUpdateTime += delta << 10;
        if (load == 0)
        {
            runnable = 0; // running and runnable are subsets of load (see ___update_load_sum)
            running = false;
        }
        return AccumulateSum(delta, ref sa, load, runnable, running) != 0;
    }

    /// <summary>___update_load_avg: the averages from the sums (load_avg scaled by <paramref name="load"/>).</summary>
    public static void UpdateLoadAvg(ref SchedAvg sa, ulong load)
    {
        uint divider = Divider(in sa);
        sa.LoadAvg = Div(load * sa.LoadSum, divider);
        sa.RunnableAvg = Div(sa.RunnableSum, divider);
        sa.UtilAvg = sa.UtilSum / divider;
    }

    /// <summary>
    /// <paramref name="value"/> / <paramref name="divider"/>, exactly. A task's sums fit 32 bits, where a 32-bit division
    /// is several times cheaper than a 64-bit one; a busy cfs_rq's do not, and below 2^52 a double reciprocal gives
    /// the quotient within one, which one multiply-and-compare corrects (IEEE arithmetic, the same on every machine).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Div(ulong value, uint divider)
    {
        if (value <= uint.MaxValue)
        {
            return (uint)value / divider;
        }
        if (value >= 1UL << 52)
        {
            return value / divider;
        }
        ulong q = (ulong)(value * (1.0 / divider));
        ulong product = q * divider;
        if (product > value)
        {
            return q - 1;
        }
        return value - product >= divider ? q + 1 : q;
    }
}
