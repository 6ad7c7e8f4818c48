namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// One trace of a <see cref="ChartFigure"/>: its points (NaN is a gap), colour and legend entry. <see cref="Hidden"/>
/// series start switched off and are switched on from the legend; <see cref="Group"/> gathers series under one legend
/// title; <see cref="Step"/> holds each value until the next point (a counter such as a refcnt).
/// </summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, string Colour)
{
    public ChartMode Mode { get; init; } = ChartMode.Lines;
    public string? Group { get; init; }
    public bool Hidden { get; init; }
    public bool Dotted { get; init; }
    public bool Step { get; init; }
    /// <summary>The value's unit in the hover label ("Mbit/s").</summary>
    public string? Unit { get; init; }
    /// <summary>One label per point, shown on hover (for a scatter of named results).</summary>
    public IReadOnlyList<string>? PointLabels { get; init; }

    /// <summary>Builds a series from (x, y) pairs.</summary>
    public static ChartSeries From(string name, IEnumerable<(double X, double Y)> points, string colour)
    {
        var list = points.ToList();
        return new ChartSeries(name, list.Select(p => p.X).ToArray(), list.Select(p => p.Y).ToArray(), colour);
    }
}
