using BpfSim.Studies.Output;

namespace BpfSim.Studies.Sweeps;

/// <summary>One metric of one run: a column name, its type, and the value.</summary>
public readonly record struct SweepMetric(string Name, ResultColumnKind Kind, double Value);
