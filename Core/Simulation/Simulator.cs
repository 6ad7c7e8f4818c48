using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Core.Simulation;

/// <summary>
/// The discrete-event engine: a clock and a queue of events that name a registered <see cref="IEventHandler"/>,
/// a kind and an argument. Events at the same instant run in scheduling order (for a timer re-armed later than its
/// queued entry, in the order it re-queued itself, see below), so a run is deterministic.
/// </summary>
/// <remarks>
/// Scheduling and dispatching allocate nothing: events are structs in <see cref="EventQueue"/> and handlers are
/// addressed by index. A timer has at most one live queue entry: cancelling leaves it to be dropped when it comes
/// due, re-arming later keeps it and it re-queues itself for the new time when it comes due, and only re-arming
/// earlier queues a new entry (the old one, recognised by its generation, is skipped). TCP re-arms its delayed-ACK
/// and retransmission timers on nearly every packet; this keeps that to one queue entry per timer. A timer that
/// re-queued itself is ordered among events of its new instant from the time it re-queued (when its old entry came
/// due), not from the call to <see cref="Arm"/>.
/// </remarks>
public sealed class Simulator
{
    private readonly EventQueue _queue;
    // Each handler's methods as delegates, one entry per handler: a delegate call is an indirect call, where an
    // interface call from a site that reaches several handler types goes through the runtime's resolve stub (a hash
    // lookup, ~2 % of a 10,000-flow run).
    private HandlerEntry[] _handlers = new HandlerEntry[16];

    private readonly struct HandlerEntry(IEventHandler handler)
    {
        public readonly Action<int, long> OnEvent = handler.OnEvent;
        public readonly Action<int, long, int>? Prefetch = handler is IEventPrefetcher p ? p.Prefetch : null;
    }
    private int _handlerCount;
    private TimerSlot[] _timers = new TimerSlot[16];
    private int _timerCount;
    private readonly ActionHandler _actions;
    private readonly HandlerId _actionHandler;
    private bool _stopRequested;

    private struct TimerSlot
    {
        public int Handler;
        public int Kind;
        public uint Generation; // of the live queue entry
        public bool Armed;
        public long Due;
        public long Arg;
        public long QueuedAt;   // time of the live queue entry, or -1
    }

    public Simulator(int initialCapacity = 1024)
    {
        _queue = new EventQueue(initialCapacity);
        _actions = new ActionHandler();
        _actionHandler = Register(_actions);
    }

    /// <summary>The current simulated time: the time of the event being dispatched, or of the last one.</summary>
    public SimTime Now { get; private set; }

    /// <summary>Events dispatched so far (stale timer entries not counted).</summary>
    public long EventsDispatched { get; private set; }

    /// <summary>
    /// Whether handlers that implement <see cref="IEventPrefetcher"/> are asked about the next events before each
    /// dispatch. Off by default: when a simulation's state fits the caches the hints only cost time, so a handler
    /// whose state outgrows them turns them on (the TCP stack from 256 connections, the scheduler from 1,024 tasks), and
    /// setting it off before that point does not keep it off. Results do not depend on it.
    /// </summary>
    public bool PrefetchHints { get; set; }

    /// <summary>Entries in the queue, including timer entries that will be dropped or re-queued when they come due.</summary>
    public int Pending => _queue.Count;

    /// <summary>Registers a handler and returns the id that events use to name it.</summary>
    public HandlerId Register(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_handlerCount == _handlers.Length)
        {
            Array.Resize(ref _handlers, _handlers.Length * 2);
        }
        _handlers[_handlerCount] = new HandlerEntry(handler);
        return new HandlerId(_handlerCount++);
    }

    /// <summary>Schedules <paramref name="handler"/> to receive (<paramref name="kind"/>, <paramref name="arg"/>) at <paramref name="at"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="at"/> is in the past.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Schedule(SimTime at, HandlerId handler, int kind, long arg = 0)
    {
        if (at < Now)
        {
            ThrowPast(at);
        }
        _queue.Push(at.Nanoseconds, new EventPayload { Arg = arg, Handler = handler.Value, Kind = kind, Timer = -1 });
    }

    /// <summary>Schedules an event <paramref name="delay"/> after <see cref="Now"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ScheduleIn(SimTime delay, HandlerId handler, int kind, long arg = 0) =>
        Schedule(Now + delay, handler, kind, arg);

    /// <summary>
    /// Schedules a one-off action. Convenient for scripts and set-up; it allocates the delegate, so keep it off
    /// per-packet paths.
    /// </summary>
    public void Schedule(SimTime at, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Schedule(at, _actionHandler, 0, _actions.Add(action));
    }

    /// <summary>Creates a timer that delivers (<paramref name="kind"/>, arg) to <paramref name="handler"/> each time it fires.</summary>
    public TimerId CreateTimer(HandlerId handler, int kind)
    {
        if (_timerCount == _timers.Length)
        {
            Array.Resize(ref _timers, _timers.Length * 2);
        }
        _timers[_timerCount] = new TimerSlot { Handler = handler.Value, Kind = kind, QueuedAt = -1 };
        return new TimerId(_timerCount++);
    }

    /// <summary>Arms the timer to fire at <paramref name="at"/> with <paramref name="arg"/>, replacing any earlier arming.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Arm(TimerId timer, SimTime at, long arg = 0)
    {
        if (at < Now)
        {
            ThrowPast(at);
        }
        ref var slot = ref _timers[timer.Value];
        slot.Armed = true;
        slot.Due = at.Nanoseconds;
        slot.Arg = arg;
        if (slot.QueuedAt >= 0 && slot.QueuedAt <= at.Nanoseconds)
        {
            return; // the live entry comes due first and re-queues itself for the new time
        }
        slot.Generation++;
        slot.QueuedAt = at.Nanoseconds;
        _queue.Push(at.Nanoseconds, new EventPayload
        {
            Handler = slot.Handler,
            Kind = slot.Kind,
            // Dispatch passes slot.Arg; the entry's copy is what an IEventPrefetcher is told about the next event (a
            // re-arming that does not re-queue may leave it stale: a hint only).
            Arg = arg,
            Timer = timer.Value,
            Generation = slot.Generation,
        });
    }

    /// <summary>Cancels the timer if armed; its queue entry is dropped when it comes due.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Cancel(TimerId timer) => _timers[timer.Value].Armed = false;

    /// <summary>
    /// Asks the caches for <paramref name="timer"/>'s slot, which arming, cancelling or firing it reads: a hint for a
    /// handler that knows the timer is about to be touched (<see cref="IEventPrefetcher"/>). Changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchTimer(TimerId timer)
    {
        if (Sse.IsSupported && (uint)timer.Value < (uint)_timerCount)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref _timers[timer.Value]));
        }
    }

    public bool IsArmed(TimerId timer) => _timers[timer.Value].Armed;

    /// <summary>When the timer fires, if it is armed.</summary>
    public SimTime? DueTime(TimerId timer) =>
        _timers[timer.Value].Armed ? new SimTime(_timers[timer.Value].Due) : null;

    /// <summary>Makes the running <see cref="RunUntil"/> return after the current event.</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>
    /// Dispatches events in order until the next one is later than <paramref name="end"/>, the queue is empty or
    /// <see cref="Stop"/> is called; then sets <see cref="Now"/> to <paramref name="end"/> unless stopped early.
    /// May be called from inside a handler (a blocking call in simulated time, such as <c>synchronize_rcu</c>).
    /// </summary>
    /// <returns>The number of events dispatched by this call.</returns>
    public long RunUntil(SimTime end)
    {
        long before = EventsDispatched;
        _stopRequested = false;
        while (!_stopRequested && DispatchNext(end.Nanoseconds) != Dispatch.Nothing)
        {
        }
        if (!_stopRequested && end > Now && end != SimTime.MaxValue)
        {
            Now = end;
        }
        return EventsDispatched - before;
    }

    /// <summary>
    /// Runs events while <paramref name="condition"/> holds, up to <paramref name="deadline"/>: a blocking wait in
    /// simulated time with a timeout. If the condition still holds when no event is due by the deadline, the clock
    /// moves to the deadline (time passed while waiting).
    /// </summary>
    /// <returns>True if the condition became false; false on timeout.</returns>
    public bool RunWhile(Func<bool> condition, SimTime deadline)
    {
        while (condition())
        {
            if (DispatchNext(deadline.Nanoseconds) == Dispatch.Nothing)
            {
                if (deadline > Now && deadline != SimTime.MaxValue)
                {
                    Now = deadline;
                }
                return false;
            }
        }
        return true;
    }

    /// <summary>Dispatches the earliest event, skipping stale timer entries.</summary>
    /// <returns>False if the queue was empty.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Step()
    {
        Dispatch d;
        while ((d = DispatchNext(long.MaxValue)) == Dispatch.Stale)
        {
        }
        return d == Dispatch.Dispatched;
    }

    /// <summary>The time of the next pending event, if any (a stale timer entry may stand in for it).</summary>
    public SimTime? NextEventTime => _queue.PeekTime() is long t ? new SimTime(t) : null;

    private enum Dispatch
    {
        Nothing,
        Stale,
        Dispatched,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Dispatch DispatchNext(long limit)
    {
        if (!_queue.TryPop(limit, out long time, out var ev))
        {
            return Dispatch.Nothing;
        }
        long arg = ev.Arg;
        if (ev.Timer >= 0)
        {
            ref var slot = ref _timers[ev.Timer];
            if (slot.Generation != ev.Generation)
            {
                return Dispatch.Stale; // superseded by an earlier arming
            }
            slot.QueuedAt = -1;
            if (!slot.Armed)
            {
                return Dispatch.Stale;
            }
            if (slot.Due > time)
            {
                slot.QueuedAt = slot.Due;
                ev.Arg = slot.Arg; // what a prefetcher is told about it, as Arm does
                _queue.Push(slot.Due, ev);
                return Dispatch.Stale;
            }
            slot.Armed = false;
            arg = slot.Arg;
        }
        Now = new SimTime(time);
        EventsDispatched++;
        if (PrefetchHints)
        {
            // The nearest first: its lines are needed soonest.
            for (int distance = 1; distance <= IEventPrefetcher.Distances && _queue.TryGetHint(distance, out var next); distance++)
            {
                PrefetchFor(in next, distance);
            }
        }
        _handlers[ev.Handler].OnEvent(ev.Kind, arg);
        return Dispatch.Dispatched;
    }

    /// <summary>
    /// Asks the caches for what the event likely dispatched <paramref name="distance"/> events from now will read: its
    /// timer's slot, and whatever its handler names at that distance (<see cref="IEventPrefetcher"/>).
    /// Changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchFor(in EventPayload next, int distance)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        if (next.Timer >= 0)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref _timers[next.Timer]));
        }
        _handlers[next.Handler].Prefetch?.Invoke(next.Kind, next.Arg, distance);
    }

    private void ThrowPast(SimTime at) =>
        throw new ArgumentOutOfRangeException(nameof(at), $"cannot schedule at {at}: the clock is already at {Now}");

    /// <summary>Holds one-off actions in reusable slots, so the event itself carries only a slot index.</summary>
    private sealed class ActionHandler : IEventHandler
    {
        private Action?[] _slots = new Action?[16];
        private readonly Stack<int> _free = new();
        private int _used;

        public long Add(Action action)
        {
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                if (_used == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                }
                slot = _used++;
            }
            _slots[slot] = action;
            return slot;
        }

        public void OnEvent(int kind, long arg)
        {
            var action = _slots[arg]!;
            _slots[arg] = null;
            _free.Push((int)arg);
            action();
        }
    }
}
