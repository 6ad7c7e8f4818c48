using System.Runtime.InteropServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// What an event carries besides its time: the handler, kind and argument, and for a timer event its timer and the
/// generation it was armed with (a mismatch when popped means the entry is stale). <see cref="Timer"/> is -1 for a
/// plain event.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EventPayload
{
    public long Arg;
    public int Handler;
    public int Kind;
    public int Timer;
    public uint Generation;
}
