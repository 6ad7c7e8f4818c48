namespace BpfSim.Studies.Sweeps;

/// <summary>One run of a sweep: a point with a seed. <see cref="Index"/> is its place in the plan's run order.</summary>
public sealed record SweepRun(int Index, SweepPoint Point, ulong Seed, string Id);
