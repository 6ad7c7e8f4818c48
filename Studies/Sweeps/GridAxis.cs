using BpfSim.Studies.Output;

namespace BpfSim.Studies.Sweeps;

/// <summary>One grid key: where in the scenario, the values it takes, and where it is in the sweep file.</summary>
/// <param name="Kind">The column type of its values in sweep.csv (integer or double when all are numbers).</param>
public sealed record GridAxis(ScenarioPath Path, IReadOnlyList<GridValue> Values, ResultColumnKind Kind, int Line, int Column)
{
    /// <summary>The key as written, which is also its column's name.</summary>
    public string Key => Path.Text;
}
