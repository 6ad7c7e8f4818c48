namespace BpfSim.Studies.Sweeps;

/// <summary>
/// A sweep file as read (DESIGN §7): the base scenario, the grid and the seeds, with where each was written so
/// expansion can report problems at the sweep file's line. Says nothing yet about whether the points are valid
/// scenarios (<see cref="SweepPlan"/> checks that).
/// </summary>
/// <param name="Path">The sweep file, as named on the command line.</param>
/// <param name="Name">The sweep's name (<c>name:</c>, or the file's name without extension).</param>
/// <param name="BasePath">The base scenario's path, resolved against the sweep file's folder.</param>
/// <param name="Axes">The grid's keys in file order; every combination of their values is a point (the last key varies fastest).</param>
/// <param name="Seeds">The seeds every point runs with, in order.</param>
public sealed record SweepFile(string Path, string Name, string BasePath, int BaseLine, int BaseColumn, IReadOnlyList<GridAxis> Axes,
    IReadOnlyList<ulong> Seeds)
{
    /// <summary>How many points the grid has (1 for an empty grid).</summary>
    public int PointCount => Axes.Aggregate(1, (n, a) => n * a.Values.Count);
}
