namespace BpfSim.Tcp.Stack;

/// <summary>
/// The kernel's jiffies arithmetic for TCP at a run's CONFIG_HZ (<see cref="TcpStackOptions.Hz"/>, carried by every
/// socket as <see cref="TcpSock.Hz"/>): include/linux/jiffies.h's conversions, exact for every HZ Kconfig offers
/// (kernel/Kconfig.hz: 100, 250, 300, 1000). The default is 1000; Kconfig's default, and Debian's builds, are 250
/// (docs/tcp-loss-recovery.md says what that changes).
/// </summary>
public static class TcpTime
{
    /// <summary>bpfsim's default CONFIG_HZ: jiffies per second.</summary>
    public const uint DefaultHz = 1000;

    /// <summary>USEC_PER_SEC.</summary>
    public const uint UsecPerSec = 1_000_000;

    /// <summary>USEC_PER_MSEC.</summary>
    public const uint UsecPerMsec = 1000;

    private const ulong NsecPerSec = 1_000_000_000;

    /// <summary>Whether <paramref name="hz"/> is one of CONFIG_HZ's choices (kernel/Kconfig.hz): 100, 250, 300 or 1000.</summary>
    public static bool IsValidHz(uint hz) => hz is 100 or 250 or 300 or 1000;

    /// <summary>
    /// usecs_to_jiffies (include/linux/jiffies.h): rounds up, so any non-zero delay is at least one jiffy (at HZ 250 a
    /// jiffy is 4 ms).
    /// </summary>
    public static ulong UsecsToJiffies(uint us, uint hz) => ((ulong)us * hz + UsecPerSec - 1) / UsecPerSec;

    /// <summary>msecs_to_jiffies (include/linux/jiffies.h): rounds up.</summary>
    public static ulong MsecsToJiffies(uint ms, uint hz) => ((ulong)ms * hz + 999) / 1000;

    /// <summary>jiffies_to_usecs (include/linux/jiffies.h, kernel/time/time.c): rounds down (at HZ 300 a jiffy is 3333⅓ µs).</summary>
    public static ulong JiffiesToUsecs(ulong j, uint hz) => j * UsecPerSec / hz;

    /// <summary>
    /// The jiffies count at <paramref name="us"/> microseconds since boot: the ticks that have happened by then, one
    /// every 1/HZ s from 0 (bpfsim's jiffies start at 0, not INITIAL_JIFFIES).
    /// </summary>
    public static ulong JiffiesAtUsecs(ulong us, uint hz) => us / UsecPerSec * hz + us % UsecPerSec * hz / UsecPerSec;

    /// <summary>The jiffies count at <paramref name="ns"/> nanoseconds since boot (see <see cref="JiffiesAtUsecs"/>).</summary>
    public static ulong JiffiesAtNsecs(ulong ns, uint hz) => ns / NsecPerSec * hz + ns % NsecPerSec * hz / NsecPerSec;

    /// <summary>When tick <paramref name="j"/> happens, in nanoseconds since boot: the first instant whose jiffies count is <paramref name="j"/>.</summary>
    public static long TickNsecs(ulong j, uint hz) => (long)(j / hz * NsecPerSec + (j % hz * NsecPerSec + hz - 1) / hz);

    /// <summary>
    /// nsecs_to_jiffies (kernel/time/time.c): a duration in whole jiffies rounded down (tcp_pacing_delay uses it).
    /// </summary>
    public static ulong NsecsToJiffies(ulong ns, uint hz) => ns / NsecPerSec * hz + ns % NsecPerSec * hz / NsecPerSec;

    /// <summary>A duration of <paramref name="ns"/> nanoseconds in whole jiffies rounded up, as a timer's delay.</summary>
    public static ulong NsecsToJiffiesUp(ulong ns, uint hz) => ns / NsecPerSec * hz + (ns % NsecPerSec * hz + NsecPerSec - 1) / NsecPerSec;

    /// <summary>after(seq2, seq1) / time_after on u32: <paramref name="a"/> is later than <paramref name="b"/> modulo 2^32.</summary>
    public static bool After(uint a, uint b) => (int)(b - a) < 0;

    /// <summary>before(seq1, seq2) on u32: <paramref name="a"/> is earlier than <paramref name="b"/> modulo 2^32.</summary>
    public static bool Before(uint a, uint b) => (int)(a - b) < 0;
}
