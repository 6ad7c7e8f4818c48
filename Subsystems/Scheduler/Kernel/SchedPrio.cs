using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// nice → load weight (kernel/sched/core.c sched_prio_to_weight / sched_prio_to_wmult, 6.12): each nice step is
/// about 10 % of CPU time against a nice-0 task (weights about 1.25 apart), and the sched_ext weight 1 … 10000
/// (kernel/sched/sched.h sched_weight_to_cgroup, set by ext.c set_task_scx_weight).
/// </summary>
public static class SchedPrio
{
    /// <summary>MAX_RT_PRIO: static_prio of nice −20 is 100.</summary>
    public const int MaxRtPrio = 100;

    /// <summary>DEFAULT_PRIO: static_prio of nice 0.</summary>
    public const int DefaultPrio = 120;

    /// <summary>SCHED_FIXEDPOINT_SHIFT: 64-bit kernels keep load weights scaled by 2^10 (scale_load).</summary>
    public const int FixedPointShift = 10;

    private static readonly int[] PrioToWeight =
    [
        88761, 71755, 56483, 46273, 36291,
        29154, 23254, 18705, 14949, 11916,
        9548, 7620, 6100, 4904, 3906,
        3121, 2501, 1991, 1586, 1277,
        1024, 820, 655, 526, 423,
        335, 272, 215, 172, 137,
        110, 87, 70, 56, 45,
        36, 29, 23, 18, 15,
    ];

    private static readonly uint[] PrioToWmult =
    [
        48388, 59856, 76040, 92818, 118348,
        147320, 184698, 229616, 287308, 360437,
        449829, 563644, 704093, 875809, 1099582,
        1376151, 1717300, 2157191, 2708050, 3363326,
        4194304, 5237765, 6557202, 8165337, 10153587,
        12820798, 15790321, 19976592, 24970740, 31350126,
        39045157, 49367440, 61356676, 76695844, 95443717,
        119304647, 148102320, 186737708, 238609294, 286331153,
    ];

    /// <summary>sched_prio_to_weight[nice + 20] (unscaled: nice 0 = 1024).</summary>
    public static int WeightOfNice(int nice) => PrioToWeight[Index(nice)];

    /// <summary>sched_prio_to_wmult[nice + 20]: 2^32 / weight.</summary>
    public static uint WmultOfNice(int nice) => PrioToWmult[Index(nice)];

    /// <summary>
    /// sched_weight_to_cgroup: DIV_ROUND_CLOSEST(weight × CGROUP_WEIGHT_DFL 100, 1024) clamped to
    /// CGROUP_WEIGHT_MIN 1 … CGROUP_WEIGHT_MAX 10000 (<paramref name="weight"/> unscaled).
    /// </summary>
    public static uint WeightToCgroup(ulong weight) => (uint)Math.Clamp((weight * 100 + 512) / 1024, 1UL, 10000UL);

    /// <summary>
    /// set_load_weight (core.c) and set_task_scx_weight (ext.c): the task's se.load from its static_prio and its
    /// scx.weight from that.
    /// </summary>
    public static void SetLoadWeight(ref TaskStruct p)
    {
        int nice = p.StaticPrio - DefaultPrio;
        int w = WeightOfNice(nice);
        p.Se.Weight = (ulong)w << FixedPointShift;
        p.Se.InvWeight = WmultOfNice(nice);
        p.Scx.Weight = WeightToCgroup((ulong)w);
    }

    private static int Index(int nice)
    {
        if (nice is < -20 or > 19)
        {
            throw new ArgumentOutOfRangeException(nameof(nice), nice, "nice is −20 … 19");
        }
        return nice + 20;
    }
}
