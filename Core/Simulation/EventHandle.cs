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
/// the event before it runs. Optional: a handler that implements it is asked about the event most likely dispatched
/// next, when the queue knows it, just before the current one is dispatched.
/// </summary>
public interface IEventPrefetcher
{
    /// <summary>
    /// Prefetches (a hint to the processor, such as <c>Sse.Prefetch0</c>) what handling (<paramref name="kind"/>,
    /// <paramref name="arg"/>) will read first. Must change no state: the event may not be the next one, or may not
    /// come at all (a cancelled timer).
    /// </summary>
    void Prefetch(int kind, long arg);

    /// <summary>
    /// The same for the event after the next one, a dispatch earlier than <see cref="Prefetch"/> is asked about it:
    /// only what (<paramref name="kind"/>, <paramref name="arg"/>) name directly, without reading state that may not
    /// be in the caches yet, so that <see cref="Prefetch"/> can follow the pointers in it an event later. Must change
    /// no state.
    /// </summary>
    void PrefetchAhead(int kind, long arg);
}

/// <summary>A handler registered with a <see cref="Simulator"/>: a small integer that names it in the event heap.</summary>
public readonly record struct HandlerId(int Value);

/// <summary>A re-armable timer (RTO, delayed ACK, pacing). Cancelled or re-armed by bumping its generation.</summary>
public readonly record struct TimerId(int Value);
