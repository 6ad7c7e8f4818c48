using System.Runtime.CompilerServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// The kernel's jiffies at a CONFIG_HZ (include/linux/jiffies.h, kernel/time/time.c): conversions exact for every HZ
/// Kconfig offers (kernel/Kconfig.hz: 100, 250, 300, 1000), and the jiffies count at a simulated time (bpfsim's
/// jiffies start at 0, not INITIAL_JIFFIES). One HZ per simulated kernel: the TCP stack, its BPF objects
/// (<c>CONFIG_HZ</c>, <c>bpf_jiffies64</c>) and its queues read the same value.
/// </summary>
public static class Jiffies
{
    /// <summary>bpfsim's default CONFIG_HZ: jiffies per second.</summary>
    public const uint DefaultHz = 1000;

    private const uint UsecPerSec = 1_000_000;
    private const ulong NsecPerSec = 1_000_000_000;

    /// <summary>Whether <paramref name="hz"/> is one of CONFIG_HZ's choices (kernel/Kconfig.hz): 100, 250, 300 or 1000.</summary>
    public static bool IsValidHz(uint hz) => hz is 100 or 250 or 300 or 1000;

    // The conversions run on every ACK and timer (tcp_jiffies32, the RTO and loss-probe ticks), so the HZ values that
    // divide a second into whole microseconds get their own arm: a division by a constant compiles to a multiply,
    // where a division by the run's HZ is a 64-bit divide (tens of cycles). Every arm gives the generic formula's
    // value (Tests/Tcp/HzTests.cs checks them against exact quotients at all four HZ values).

    /// <summary>
    /// usecs_to_jiffies (include/linux/jiffies.h): rounds up, so any non-zero delay is at least one jiffy (at HZ 250 a
    /// jiffy is 4 ms).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong UsecsToJiffies(uint us, uint hz) => hz switch
    {
        1000 => ((ulong)us + 999) / 1000,
        250 => ((ulong)us + 3999) / 4000,
        100 => ((ulong)us + 9999) / 10_000,
        _ => ((ulong)us * hz + UsecPerSec - 1) / UsecPerSec,
    };

    /// <summary>msecs_to_jiffies (include/linux/jiffies.h): rounds up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MsecsToJiffies(uint ms, uint hz) => hz switch
    {
        1000 => ms,
        250 => ((ulong)ms + 3) / 4,
        100 => ((ulong)ms + 9) / 10,
        _ => ((ulong)ms * hz + 999) / 1000,
    };

    /// <summary>jiffies_to_usecs (include/linux/jiffies.h, kernel/time/time.c): rounds down (at HZ 300 a jiffy is 3333⅓ µs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong JiffiesToUsecs(ulong j, uint hz) => hz switch
    {
        1000 => j * 1000,
        250 => j * 4000,
        100 => j * 10_000,
        _ => j * UsecPerSec / hz,
    };

    /// <summary>
    /// The jiffies count at <paramref name="us"/> microseconds since boot: the ticks that have happened by then, one
    /// every 1/HZ s from 0 (bpfsim's jiffies start at 0, not INITIAL_JIFFIES).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong JiffiesAtUsecs(ulong us, uint hz) => hz switch
    {
        1000 => us / 1000,
        250 => us / 4000,
        100 => us / 10_000,
        _ => us / UsecPerSec * hz + us % UsecPerSec * hz / UsecPerSec,
    };

    /// <summary>The jiffies count at <paramref name="ns"/> nanoseconds since boot (see <see cref="JiffiesAtUsecs"/>).</summary>
    public static ulong JiffiesAtNsecs(ulong ns, uint hz) => NsecsToJiffies(ns, hz);

    /// <summary>When tick <paramref name="j"/> happens, in nanoseconds since boot: the first instant whose jiffies count is <paramref name="j"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long TickNsecs(ulong j, uint hz) => hz switch
    {
        1000 => (long)(j * 1_000_000),
        250 => (long)(j * 4_000_000),
        100 => (long)(j * 10_000_000),
        _ => (long)(j / hz * NsecPerSec + (j % hz * NsecPerSec + hz - 1) / hz),
    };

    /// <summary>
    /// nsecs_to_jiffies (kernel/time/time.c): a duration in whole jiffies rounded down (tcp_pacing_delay uses it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NsecsToJiffies(ulong ns, uint hz) => hz switch
    {
        1000 => ns / 1_000_000,
        250 => ns / 4_000_000,
        100 => ns / 10_000_000,
        _ => ns / NsecPerSec * hz + ns % NsecPerSec * hz / NsecPerSec,
    };

    /// <summary>A duration of <paramref name="ns"/> nanoseconds in whole jiffies rounded up, as a timer's delay.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong NsecsToJiffiesUp(ulong ns, uint hz) => hz switch
    {
        1000 => ns / 1_000_000 + (ns % 1_000_000 != 0 ? 1UL : 0),
        250 => ns / 4_000_000 + (ns % 4_000_000 != 0 ? 1UL : 0),
        100 => ns / 10_000_000 + (ns % 10_000_000 != 0 ? 1UL : 0),
        _ => ns / NsecPerSec * hz + (ns % NsecPerSec * hz + NsecPerSec - 1) / NsecPerSec,
    };

}
