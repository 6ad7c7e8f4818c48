namespace BpfSim.Tcp.Stack;

/// <summary>
/// TCP's time constants and u32 sequence/jiffies comparisons. Jiffies at the run's CONFIG_HZ
/// (<see cref="TcpStackOptions.Hz"/>, carried by every socket as <see cref="TcpSock.Hz"/>) are
/// <see cref="Core.Simulation.Jiffies"/>'s; docs/tcp-loss-recovery.md says what HZ changes.
/// </summary>
public static class TcpTime
{
    /// <summary>USEC_PER_SEC.</summary>
    public const uint UsecPerSec = 1_000_000;

    /// <summary>USEC_PER_MSEC.</summary>
    public const uint UsecPerMsec = 1000;

    /// <summary>after(seq2, seq1) / time_after on u32: <paramref name="a"/> is later than <paramref name="b"/> modulo 2^32.</summary>
    public static bool After(uint a, uint b) => (int)(b - a) < 0;

    /// <summary>before(seq1, seq2) on u32: <paramref name="a"/> is earlier than <paramref name="b"/> modulo 2^32.</summary>
    public static bool Before(uint a, uint b) => (int)(a - b) < 0;
}
