namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// One entry of a figure's menu (<see cref="ChartFigure.Choices"/>): picking it replaces the y values of some series
/// and the title, as plotly's <c>update</c> method does (a smoothing window, say).
/// </summary>
/// <param name="Label">The menu entry's text.</param>
/// <param name="Title">The figure's title when it is picked.</param>
/// <param name="Y">The new y values, by series index in the figure.</param>
public sealed record ChartChoice(string Label, string Title, IReadOnlyList<(int Series, IReadOnlyList<double> Y)> Y);
