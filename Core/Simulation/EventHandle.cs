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

/// <summary>A handler registered with a <see cref="Simulator"/>: a small integer that names it in the event heap.</summary>
public readonly record struct HandlerId(int Value);

/// <summary>A re-armable timer (RTO, delayed ACK, pacing). Cancelled or re-armed by bumping its generation.</summary>
public readonly record struct TimerId(int Value);
