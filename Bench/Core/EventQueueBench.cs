using BenchmarkDotNet.Attributes;
using BpfSim.Core.Simulation;

namespace BpfSim.Bench.Core;

/// <summary>
/// Steady-state schedule + dispatch with 10,000 events pending: each dispatched event schedules one more, so the
/// heap stays at 10k (as a packet simulation's does). One operation = one event through the queue.
/// </summary>
[MemoryDiagnoser]
public class EventQueueBench
{
    private const int Pending = 10_000;
    private const int Batch = 1_000_000;
    private Simulator _sim = null!;

    private sealed class Rescheduler : IEventHandler
    {
        public Simulator Sim = null!;
        public HandlerId Self;
        private readonly long[] _delays;
        private int _next;

        public Rescheduler(int seed)
        {
            var random = new SimRandom((ulong)seed);
            _delays = new long[4096];
            for (int i = 0; i < _delays.Length; i++)
            {
                _delays[i] = 1 + random.Next(100_000);
            }
        }

        public void OnEvent(int kind, long arg)
        {
            Sim.ScheduleIn(new SimTime(_delays[_next++ & 4095]), Self, kind, arg);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _sim = new Simulator(Pending * 2);
        var handler = new Rescheduler(1) { Sim = _sim };
        handler.Self = _sim.Register(handler);
        var random = new SimRandom(2);
        for (int i = 0; i < Pending; i++)
        {
            _sim.Schedule(new SimTime(random.Next(100_000)), handler.Self, 0, i);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void ScheduleAndDispatch()
    {
        var sim = _sim;
        for (int i = 0; i < Batch; i++)
        {
            sim.Step();
        }
    }
}
