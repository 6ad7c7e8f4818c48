namespace BpfSim.Tcp.Stack;

/// <summary>
/// The kernel's jiffies arithmetic for congestion control, with CONFIG_HZ = 1000 (the value bpf_cubic.c reads through
/// <c>CONFIG_HZ __kconfig</c> here). Kconfig's default, and Debian's builds, are 250: docs/tcp-loss-recovery.md says what
/// that changes.
/// </summary>
public static class TcpTime
{
    /// <summary>CONFIG_HZ: jiffies per second.</summary>
    public const uint Hz = 1000;

    /// <summary>USEC_PER_SEC.</summary>
    public const uint UsecPerSec = 1_000_000;

    /// <summary>USEC_PER_MSEC.</summary>
    public const uint UsecPerMsec = 1000;

    /// <summary>USEC_PER_SEC / HZ.</summary>
    public const uint UsecPerJiffy = UsecPerSec / Hz;

    /// <summary>usecs_to_jiffies (include/linux/jiffies.h): rounds up, so any non-zero delay is at least one jiffy.</summary>
    public static ulong UsecsToJiffies(uint us) => ((ulong)us + UsecPerJiffy - 1) / UsecPerJiffy;

    /// <summary>after(seq2, seq1) / time_after on u32: <paramref name="a"/> is later than <paramref name="b"/> modulo 2^32.</summary>
    public static bool After(uint a, uint b) => (int)(b - a) < 0;

    /// <summary>before(seq1, seq2) on u32: <paramref name="a"/> is earlier than <paramref name="b"/> modulo 2^32.</summary>
    public static bool Before(uint a, uint b) => (int)(a - b) < 0;
}
