using BpfSim.Core.Bpf;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads;

/// <summary>
/// An experiment on the replaced-inner-map question: programs on every CPU keep reading an inner map through an
/// ARRAY_OF_MAPS while user space swaps in <see cref="Swaps"/> fresh inner maps one after another.
/// </summary>
public sealed record InnerMapSwapOptions
{
    public ulong Seed { get; init; } = 1;
    public int Cpus { get; init; } = 4;
    public int Swaps { get; init; } = 10;
    public InnerMapReplaceWait Wait { get; init; } = InnerMapReplaceWait.SynchronizeRcu;

    /// <summary>Mean gap between program invocations on one CPU (exponentially distributed).</summary>
    public SimTime MeanProgramGap { get; init; } = SimTime.FromMicroseconds(50);

    /// <summary>How long an invocation holds the inner map it looked up (its run time).</summary>
    public SimTime ProgramRunTime { get; init; } = SimTime.FromMicroseconds(20);

    /// <summary>When user space starts swapping.</summary>
    public SimTime SwapStart { get; init; } = SimTime.FromMilliseconds(1);

    /// <summary>Grace-period tick (CONFIG_HZ=250 → 4 ms).</summary>
    public SimTime RcuTick { get; init; } = SimTime.FromMilliseconds(4);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Cpus);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Swaps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MeanProgramGap.Nanoseconds, nameof(MeanProgramGap));
        ArgumentOutOfRangeException.ThrowIfNegative(ProgramRunTime.Nanoseconds, nameof(ProgramRunTime));
    }
}
