namespace BpfSim.Studies.Output.Charts;

/// <summary>A vertical line across a time plot at <see cref="X"/> (an event: a registration, a link update, an ejection).</summary>
/// <param name="X">Where, on the x axis.</param>
/// <param name="Label">The short text drawn beside the line.</param>
/// <param name="Detail">What the hover label over the text says.</param>
/// <param name="Colour">The line's and label's colour (one per kind of event).</param>
public sealed record ChartMarker(double X, string Label, string Detail, string Colour);
