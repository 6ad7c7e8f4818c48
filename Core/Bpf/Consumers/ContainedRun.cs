using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>One attempt of a contained run: how to run it, and the guards of the consumers it registers.</summary>
/// <param name="Run">Runs the simulation to its end (on the watchdog's simulation thread).</param>
/// <param name="Guards">The guards so far; called from the watchdog's thread while the run goes on.</param>
public sealed record ContainedAttempt<T>(Func<T> Run, Func<IReadOnlyList<ConsumerGuard>> Guards);

/// <summary>
/// Runs a simulation on a thread of its own under a wall-clock watchdog, so a consumer call that never returns ends
/// that consumer, not the run. .NET cannot stop a thread, so a hung attempt is abandoned (its thread keeps spinning,
/// at the lowest priority, until the process exits) and the run is replayed from the start: the simulation is
/// deterministic, so the replay reaches the same call, which its guard now refuses as a timeout (the consumer is
/// ejected there) and goes on to the end. On Linux the abandoned thread is reniced to 19, so it competes for a core
/// only when nothing else wants it; it still spins until the process exits.
/// </summary>
/// <remarks>
/// The budget is wall-clock time, so whether a very slow (rather than stuck) call is cut off can depend on the
/// machine; every result of a run that finished without a timeout is bit-identical everywhere.
/// </remarks>
public static class ContainedRun
{
    /// <summary>The default budget for one consumer call.</summary>
    public static readonly TimeSpan DefaultCallBudget = TimeSpan.FromSeconds(1);

    private const int SimulationStackBytes = 16 << 20;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <param name="create">Builds a fresh attempt that refuses the given calls (by guard ordinal).</param>
    /// <param name="callBudget">How long one consumer call may run.</param>
    /// <param name="abandoned">Told about each hung call before the replay (for a message to the user).</param>
    /// <exception cref="Exception">Whatever the run itself threw, rethrown with its original stack.</exception>
    public static T Run<T>(Func<IReadOnlyDictionary<int, (long Call, string Message)>, ContainedAttempt<T>> create, TimeSpan callBudget,
        Action<ConsumerGuard, long>? abandoned = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(callBudget, TimeSpan.Zero);
        var refuse = new Dictionary<int, (long Call, string Message)>();
        while (true)
        {
            var attempt = create(refuse);
            T? result = default;
            ExceptionDispatchInfo? failure = null;
            int nativeThread = 0;
            var thread = new Thread(() =>
            {
                nativeThread = NativeThread.CurrentId();
                try
                {
                    result = attempt.Run();
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
            }, SimulationStackBytes) { IsBackground = true, Name = "bpfsim simulation" };
            thread.Start();
            var hung = Watch(thread, attempt, callBudget);
            if (hung is null)
            {
                failure?.Throw();
                return result!;
            }
            var (guard, call) = hung.Value;
            // It cannot be stopped; let the replay have the CPU. (Thread.Priority does nothing on Linux.)
            NativeThread.Deprioritise(Volatile.Read(ref nativeThread));
            if (refuse.ContainsKey(guard.Ordinal))
            {
                // The replay hung in the same consumer after its refused call: it was ejected at that call, so this
                // cannot happen unless the consumer's code runs outside its guard.
                throw new InvalidOperationException($"{guard.Consumer} hung again after it was ejected (call {call} of {guard.Member})");
            }
            abandoned?.Invoke(guard, call);
            refuse[guard.Ordinal] = (call, $"did not return within {callBudget.TotalSeconds:0.###} s of wall-clock time (the call was abandoned)");
        }
    }

    /// <summary>Waits for the run; returns the guard and call that exceeded the budget, if one did.</summary>
    private static (ConsumerGuard Guard, long Call)? Watch<T>(Thread thread, ContainedAttempt<T> attempt, TimeSpan budget)
    {
        var since = new Dictionary<int, (long Call, long Timestamp)>();
        while (!thread.Join(Poll))
        {
            foreach (var guard in attempt.Guards())
            {
                if (guard.Depth == 0)
                {
                    since.Remove(guard.Ordinal);
                    continue;
                }
                long call = guard.CurrentCall;
                if (!since.TryGetValue(guard.Ordinal, out var seen) || seen.Call != call)
                {
                    since[guard.Ordinal] = (call, Stopwatch.GetTimestamp());
                }
                else if (Stopwatch.GetElapsedTime(seen.Timestamp) >= budget)
                {
                    return (guard, call);
                }
            }
        }
        return null;
    }
}
