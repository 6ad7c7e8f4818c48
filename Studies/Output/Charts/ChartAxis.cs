namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// An axis of a <see cref="ChartFigure"/>: its title with the unit, and optionally a fixed range (zooming out again
/// returns to it) and a reversed direction. Ticks are plotly's own (1, 2, 5 × 10^k steps).
/// </summary>
public sealed record ChartAxis(string Title)
{
    public double? Min { get; init; }
    public double? Max { get; init; }
    public bool Reversed { get; init; }
    public bool Log { get; init; }

    /// <summary>
    /// Names for the whole-number positions 0, 1, … (a categorical axis: one point or group per design, per
    /// algorithm); null for plotly's numeric ticks.
    /// </summary>
    public IReadOnlyList<string>? Categories { get; init; }
}
