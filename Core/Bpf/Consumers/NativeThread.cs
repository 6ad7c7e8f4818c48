using System.Runtime.InteropServices;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// The operating-system thread behind a managed one, for the one thing .NET cannot do on Linux: lower the priority of
/// a thread that cannot be stopped (Thread.Priority is ignored there). Elsewhere, or without these libc functions,
/// it does nothing.
/// </summary>
internal static class NativeThread
{
    private const int PrioProcess = 0; // PRIO_PROCESS: on Linux, `who` may be a thread id
    private const int LowestNice = 19;

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, uint who, int prio);

    /// <summary>The calling thread's Linux thread id, or 0 where it cannot be had.</summary>
    public static int CurrentId()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }
        try
        {
            return GetTid();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Renices thread <paramref name="tid"/> to 19 (best effort).</summary>
    public static void Deprioritise(int tid)
    {
        if (tid <= 0)
        {
            return;
        }
        try
        {
            SetPriority(PrioProcess, (uint)tid, LowestNice);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Nothing more can be done for a thread that will not stop.
        }
    }
}
