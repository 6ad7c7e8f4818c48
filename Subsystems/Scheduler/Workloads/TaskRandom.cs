using System.Runtime.CompilerServices;
using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// The stream <see cref="SimRandom.For"/> gives (xoshiro256**, seeded from the scenario seed and a name by FNV-1a
/// and SplitMix64), held by value: a task's stream lives in the workload's per-task record, so a wake-up or the end
/// of a burst reads one line for both instead of the record and then a <see cref="SimRandom"/> object (a second,
/// dependent miss at 10,000 tasks, ~9 % of a run). It must give exactly <see cref="SimRandom"/>'s numbers
/// (TaskRandomTests compares the two).
/// </summary>
internal struct TaskRandom : IUniformSource
{
    private Xoshiro256 _state;

    /// <summary>The stream of <c>SimRandom.For(seed, component)</c>.</summary>
    public static TaskRandom For(ulong seed, string component) => new() { _state = Xoshiro256.For(seed, component) };

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64() => _state.NextUInt64();

    /// <summary>A double uniform in [0, 1) from the top 53 bits, as <see cref="SimRandom.NextDouble"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => _state.NextDouble();
}
