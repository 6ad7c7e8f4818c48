namespace BpfSim.Tests;

/// <summary>
/// Measures what a steady-state stretch of work allocates on the calling thread. The runtime's own one-time work —
/// a method tiered up to optimised code while the stretch runs, a type's first use — can allocate on this thread once;
/// an allocation per event shows up in every window. So the stretch is run up to <c>windows</c> times and the fewest
/// bytes one window allocated is returned.
/// </summary>
internal static class SteadyState
{
    public static long AllocatedBytes(Action window, int windows = 3)
    {
        long fewest = long.MaxValue;
        for (int i = 0; i < windows && fewest != 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            window();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
