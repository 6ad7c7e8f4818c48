using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Contains one registered struct_ops consumer the way the kernel contains a faulty sched_ext scheduler
/// (kernel/sched/ext.c: scx_ops_error records the error and the scheduler is disabled, the system goes on): a
/// subsystem calls every member of the consumer through <see cref="Enter"/> / <see cref="Exit"/> and reports what the
/// call threw with <see cref="Catch"/>. The first fault is recorded, every later call is refused (the subsystem uses
/// the kernel's fallback for that member), and <see cref="Faulted"/> tells the owner to eject the consumer.
/// </summary>
/// <remarks>
/// Calls are counted so a call that never returns can be named by its ordinal: the watchdog of a contained run
/// (<c>ContainedRun</c> in a subsystem) sees a call in progress whose count does not move, abandons that run, and
/// replays it deterministically with <see cref="AbandonAt"/> set, so the replay refuses exactly that call.
/// </remarks>
public sealed class ConsumerGuard
{
    /// <summary>
    /// How deep a consumer may re-enter itself through kfuncs before it is ejected: the kernel's MAX_CALL_FRAMES (8),
    /// well before a managed stack overflows, which no process survives.
    /// </summary>
    public const int MaxDepth = 8;

    private readonly Simulator _sim;
    private readonly string[] _members;
    private long _calls;
    private long _abandonCall = -1;
    private string _abandonMessage = "";
    private readonly long[] _callAtDepth = new long[MaxDepth];
    private volatile int _depth;
    private volatile int _member = -1;

    /// <param name="members">The names of the members, indexed by the numbers <see cref="Enter"/> is given.</param>
    public ConsumerGuard(int ordinal, string consumer, StructOpsMap? map, Simulator sim, IReadOnlyList<string> members)
    {
        Ordinal = ordinal;
        Consumer = consumer;
        Map = map;
        _sim = sim;
        _members = [.. members];
    }

    /// <summary>Which guard of its run this is, in creation (registration) order: stable across replays.</summary>
    public int Ordinal { get; }

    /// <summary>The algorithm or scheduler name.</summary>
    public string Consumer { get; }

    /// <summary>The consumer's struct_ops map (null only for a guard used outside a kernel).</summary>
    public StructOpsMap? Map { get; }

    /// <summary>The first fault, or null while the consumer behaves.</summary>
    public ConsumerFault? Fault { get; private set; }

    [MemberNotNullWhen(true, nameof(Fault))]
    public bool IsFaulted => Fault is not null;

    /// <summary>Calls made so far (the ordinal of the current call while one runs).</summary>
    public long Calls => Volatile.Read(ref _calls);

    /// <summary>Calls in progress (nested through kfuncs); read by the watchdog thread.</summary>
    public int Depth => _depth;

    /// <summary>
    /// The ordinal of the innermost call in progress (0 when none): the one a hang is in, even when a nested call that
    /// started later has already returned. Read by the watchdog thread.
    /// </summary>
    public long CurrentCall
    {
        get
        {
            int depth = _depth;
            return depth == 0 ? 0 : Volatile.Read(ref _callAtDepth[depth - 1]);
        }
    }

    /// <summary>The member being called, or the last one called.</summary>
    public string? Member => _member < 0 ? null : _members[_member];

    /// <summary>A call ordinal a previous attempt of this run never returned from: that call is refused as a hang.</summary>
    public void AbandonAt(long call, string message)
    {
        _abandonCall = call;
        _abandonMessage = message;
    }

    /// <summary>Raised once, on the first fault, in the simulation's thread: eject the consumer.</summary>
    public event Action<ConsumerGuard>? Faulted;

    /// <summary>Starts a call of member number <paramref name="member"/>; false when it must not run (use the kernel's fallback).</summary>
    /// <remarks>On every consumer call: a few plain stores (no reference write, so no GC write barrier), inlined.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Enter(int member)
    {
        long call = _calls + 1;
        if (Fault is not null || call == _abandonCall || _depth >= MaxDepth)
        {
            return Refuse(member, call);
        }
        Volatile.Write(ref _calls, call);
        _member = member;
        Volatile.Write(ref _callAtDepth[_depth], call);
        _depth++;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Refuse(int member, long call)
    {
        if (Fault is not null)
        {
            return false;
        }
        Volatile.Write(ref _calls, call);
        _member = member;
        if (call == _abandonCall)
        {
            Fail(_members[member], ConsumerFaultKind.Timeout, _abandonMessage);
        }
        else
        {
            Fail(_members[member], ConsumerFaultKind.Recursion,
                $"re-entered itself through kfuncs {MaxDepth} calls deep (MAX_CALL_FRAMES); stopped before the stack overflows");
        }
        return false;
    }

    /// <summary>Ends a call that <see cref="Enter"/> allowed.</summary>
    public void Exit() => _depth--;

    /// <summary>Records what a call of member number <paramref name="member"/> threw; always true, so it can serve as an exception filter.</summary>
    public bool Catch(int member, Exception e)
    {
        // A type initializer's failure says nothing; its inner exception is the consumer's own.
        var cause = e is TypeInitializationException { InnerException: { } inner } ? inner : e;
        Fail(_members[member], ConsumerFaultKind.Exception, $"{cause.GetType().Name}: {cause.Message}");
        return true;
    }

    /// <summary>Records a fault the subsystem found itself (e.g. a load failure at registration time).</summary>
    public void Fail(string member, ConsumerFaultKind kind, string message)
    {
        if (Fault is not null)
        {
            return;
        }
        Fault = new ConsumerFault(Consumer, Map?.Id ?? 0, member, kind, _sim.Now, message);
        Faulted?.Invoke(this);
    }
}
