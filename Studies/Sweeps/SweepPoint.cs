using BpfSim.Studies.Scenarios;

namespace BpfSim.Studies.Sweeps;

/// <summary>One combination of the grid's values, put into the base scenario and checked.</summary>
/// <param name="Values">The value of each grid key, in grid order.</param>
/// <param name="Text">The point's scenario: the base's text with the values spliced in.</param>
public sealed record SweepPoint(int Index, string Id, IReadOnlyList<GridValue> Values, string Text, LoadedScenario Scenario);
