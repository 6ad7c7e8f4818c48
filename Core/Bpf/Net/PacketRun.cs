using System.Diagnostics;
using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// Runs one packet program for a hook of a device (bpf_prog_run): the body, counted when
/// <see cref="BpfSystem.StatsEnabled"/> (run_cnt, run_time_ns), then the observer if one is set. Keeps the running
/// device so programs that run others (a libxdp dispatcher's slots) report under the same device.
/// </summary>
internal static class PacketRun
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Run(NetDevice dev, BpfProgram prog, ref PacketContext ctx)
    {
        var system = dev.System;
        var previous = system.RunningDevice;
        system.RunningDevice = dev;
        int ret = Invoke(system, prog, ref ctx);
        system.RunningDevice = previous;
        system.PacketObserver?.OnProgramRun(dev, prog, ret);
        return ret;
    }

    /// <summary>The body alone, with statistics when enabled (__bpf_prog_run with bpf_stats_enabled_key).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Invoke(BpfSystem system, BpfProgram prog, ref PacketContext ctx)
    {
        if (!system.StatsEnabled)
        {
            return prog.PacketBody!(ref ctx);
        }
        long start = Stopwatch.GetTimestamp();
        int ret = prog.PacketBody!(ref ctx);
        prog.Account((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
        return ret;
    }
}
