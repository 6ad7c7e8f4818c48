using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// Runs one packet program for a hook of a device (bpf_prog_run): the body, then the observer if one is set. Keeps
/// the running device so programs that run others (a libxdp dispatcher's slots) report under the same device.
/// </summary>
internal static class PacketRun
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Run(NetDevice dev, BpfProgram prog, ref PacketContext ctx)
    {
        var system = dev.System;
        var previous = system.RunningDevice;
        system.RunningDevice = dev;
        int ret = prog.PacketBody!(ref ctx);
        system.RunningDevice = previous;
        system.PacketObserver?.OnProgramRun(dev, prog, ret);
        return ret;
    }
}
