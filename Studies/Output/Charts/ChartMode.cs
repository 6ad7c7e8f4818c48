namespace BpfSim.Studies.Output.Charts;

/// <summary>How a series is drawn.</summary>
public enum ChartMode
{
    /// <summary>A line through the points.</summary>
    Lines,
    /// <summary>Points only (a scatter of separate results, such as one per algorithm).</summary>
    Markers,
    /// <summary>Points joined by a line.</summary>
    LinesAndMarkers,
}
