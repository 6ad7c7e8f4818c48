using BenchmarkDotNet.Attributes;
using BpfSim.Core.Simulation;

namespace BpfSim.Bench.Core;

/// <summary>
/// 10,000 timers (RTO-like): every firing re-arms its timer twice, as a sender re-arms its RTO on each ACK, so
/// each operation also leaves one stale heap entry for the lazy-cancel path to skip.
/// </summary>
[MemoryDiagnoser]
public class TimerBench
{
    private const int Timers = 10_000;
    private const int Batch = 1_000_000;
    private Simulator _sim = null!;

    private sealed class Rearmer : IEventHandler
    {
        public Simulator Sim = null!;
        public TimerId[] Timers = null!;

        public void OnEvent(int kind, long arg)
        {
            var timer = Timers[arg];
            Sim.Arm(timer, Sim.Now + new SimTime(50_000 + (arg & 1023)), arg);
            Sim.Arm(timer, Sim.Now + new SimTime(100_000 + (arg & 1023)), arg);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _sim = new Simulator(Timers * 4);
        var handler = new Rearmer { Sim = _sim, Timers = new TimerId[Timers] };
        var id = _sim.Register(handler);
        for (int i = 0; i < Timers; i++)
        {
            handler.Timers[i] = _sim.CreateTimer(id, 0);
            _sim.Arm(handler.Timers[i], new SimTime(i * 10), i);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void RearmAndFire()
    {
        var sim = _sim;
        for (int i = 0; i < Batch; i++)
        {
            sim.Step();
        }
    }
}
