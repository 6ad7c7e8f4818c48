namespace BpfSim.Scheduler.Fair;

/// <summary>
/// A sched_domain's NI_RANDOM statistics (kernel/sched/fair.c, update_newidle_stats; initial values from sd_init in
/// kernel/sched/topology.c): newidle balances counted, their successes weighted by the odds the die gave them, and the
/// ratio the die reads, renewed every 1024 calls from the successes of about the last thousand.
/// </summary>
internal struct NewidleStats
{
    /// <summary>sd->newidle_call.</summary>
    public uint Call;

    /// <summary>sd->newidle_success.</summary>
    public uint Success;

    /// <summary>sd->newidle_ratio: successes per 1024 calls, as the last renewal counted them.</summary>
    public uint Ratio;

    /// <summary>A new domain's: one success in two.</summary>
    public static NewidleStats Initial => new() { Call = 512, Success = 256, Ratio = 512 };

    /// <summary>One more call and <paramref name="success"/> more successes; at 1024 calls the ratio is renewed and both counts halve.</summary>
    public void Update(uint success)
    {
        Call++;
        Success += success;
        if (Call >= 1024)
        {
            Ratio = Success;
            Call /= 2;
            Success /= 2;
        }
    }
}
