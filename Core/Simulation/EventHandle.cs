namespace BpfSim.Core.Simulation;

/// <summary>
/// Receives the events scheduled for it. Dispatch is one interface call with the event's kind and argument,
/// so no closure or delegate is allocated per event.
/// </summary>
public interface IEventHandler
{
    /// <summary>Handles one event. <paramref name="kind"/> and <paramref name="arg"/> are what was scheduled.</summary>
    void OnEvent(int kind, long arg);
}

/// <summary>
/// A handler that can say what state an event will touch, so the simulator can have it fetched into the caches while
/// the events before it run. Optional: a handler that implements it is asked about each of the next
/// <see cref="Distances"/> events the queue knows (those of the current tick), once per dispatch, so that an event
/// is asked about at every distance from the farthest to the nearest: a pipeline in which each step may read what the
/// step before asked for, a dispatch earlier, and name what it points to.
/// </summary>
public interface IEventPrefetcher
{
    /// <summary>How many events ahead the simulator asks (3: the event after the second next is the farthest).</summary>
    const int Distances = 3;

    /// <summary>
    /// Prefetches (a hint to the processor, such as <c>Sse.Prefetch0</c>) what handling (<paramref name="kind"/>,
    /// <paramref name="arg"/>) will read, <paramref name="distance"/> events ahead (1 … <see cref="Distances"/>): at
    /// the farthest only what the arguments name by address, nearer what the lines asked for at the step before point
    /// to. Must change no state: the event may not come when expected, or at all (a cancelled timer), and may not have
    /// been asked about at the farther distances.
    /// </summary>
    void Prefetch(int kind, long arg, int distance);
}

/// <summary>A handler registered with a <see cref="Simulator"/>: a small integer that names it in the event heap.</summary>
public readonly record struct HandlerId(int Value);

/// <summary>A re-armable timer (RTO, delayed ACK, pacing). Cancelled or re-armed by bumping its generation.</summary>
public readonly record struct TimerId(int Value);
