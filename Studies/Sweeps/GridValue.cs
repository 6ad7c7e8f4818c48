namespace BpfSim.Studies.Sweeps;

/// <summary>One value of a grid key.</summary>
/// <param name="Yaml">What is written into the scenario (a plain or double-quoted scalar, or a flow-style list or mapping).</param>
/// <param name="Cell">What sweep.csv shows (the scalar's value, or the flow-style text).</param>
public sealed record GridValue(string Yaml, string Cell, int Line, int Column);
