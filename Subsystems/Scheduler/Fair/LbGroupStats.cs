namespace BpfSim.Scheduler.Fair;

/// <summary>
/// group_type (kernel/sched/fair.c), the four kinds bpfsim classifies, with the kernel's values: a larger value is a
/// busier group (misfit, SMT balance and asym packing, between 1 and 5, are not modelled).
/// </summary>
internal enum LbGroupType
{
    HasSpare = 0,
    FullyBusy = 1,

    /// <summary>A node whose own balance could not reach balance because of tasks' affinity (sgc->imbalance).</summary>
    Imbalanced = 5,
    Overloaded = 6,
}

/// <summary>migration_type (fair.c): what the imbalance of a balance counts (misfit is not modelled).</summary>
internal enum LbMigrationType
{
    Load,
    Util,
    Task,
}

/// <summary>
/// sg_lb_stats (fair.c): one sched group's statistics for a balance, from PELT: the sums of its CPUs' cpu_load,
/// cpu_util_cfs and cpu_runnable (utilization in capacity units, 1024 per CPU).
/// </summary>
internal struct LbGroupStats
{
    /// <summary>The group: a CPU at the node level, a node at the machine level.</summary>
    public int Id;
    public ulong Load;
    public ulong Util;
    public ulong Runnable;
    public ulong Capacity;
    public ulong AvgLoad;
    public int NrRunning;
    public int HNrRunning;
    public int IdleCpus;
    public int Weight;
    public int Cores;
    public LbGroupType Type;
    public bool RqOverloaded; // some CPU of the group has nr_running > 1 (update_sg_lb_stats' sg_overloaded)
}
