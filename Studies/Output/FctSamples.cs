namespace BpfSim.Studies.Output;

/// <summary>The completion times of one group of sized flows (a size bin, or an algorithm's flows).</summary>
public sealed record FctSamples(string Label, IReadOnlyList<double> FctMs);
