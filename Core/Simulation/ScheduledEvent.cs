using System.Runtime.InteropServices;

namespace BpfSim.Core.Simulation;

/// <summary>
/// One entry of the event heap: ordered by (<see cref="Time"/>, <see cref="Sequence"/>), so events at the same
/// instant run in the order they were scheduled. <see cref="Timer"/> is -1 for a plain event; for a timer event,
/// <see cref="Generation"/> must still equal the timer's generation when popped, otherwise the entry is stale.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ScheduledEvent
{
    public long Time;
    public long Sequence;
    public long Arg;
    public int Handler;
    public int Kind;
    public int Timer;
    public uint Generation;
}
