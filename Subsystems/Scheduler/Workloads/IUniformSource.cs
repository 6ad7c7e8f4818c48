using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Workloads;

/// <summary>A source of uniform doubles in [0, 1) that <see cref="Distribution"/> samples from.</summary>
internal interface IUniformSource
{
    double NextDouble();
}

/// <summary>A <see cref="SimRandom"/> as an <see cref="IUniformSource"/>.</summary>
internal readonly struct SharedRandom(SimRandom random) : IUniformSource
{
    public double NextDouble() => random.NextDouble();
}
