using System.Text;
using System.Text.Json;

namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// One plot of the report as plotly.js draws it: series, axes, event markers. <see cref="ToJson"/> writes the figure
/// (<c>{"data": [...], "layout": {...}}</c>, plotly.js's figure schema) that <see cref="PlotlyPage"/> hands to
/// <c>Plotly.newPlot</c>; the same data always gives the same text (invariant numbers, no dictionary order).
/// </summary>
public sealed class ChartFigure(string title, ChartAxis x, ChartAxis y)
{
    private readonly List<ChartSeries> _series = [];
    private readonly List<ChartMarker> _markers = [];

    public string Title { get; } = title;
    public ChartAxis X { get; } = x;
    public ChartAxis Y { get; } = y;
    public IReadOnlyList<ChartSeries> Series => _series;
    public IReadOnlyList<ChartMarker> Markers => _markers;

    /// <summary>
    /// True for time plots: hovering shows every series' value at that time in one label. False for scatters of
    /// separate results, where the nearest point's label is the useful one.
    /// </summary>
    public bool UnifiedHover { get; init; } = true;

    /// <summary>Pixels right of the plot area kept for the legend.</summary>
    public const int LegendWidth = 240;

    /// <summary>Pixels; the width is always the page's.</summary>
    public int Height { get; init; } = 380;

    /// <summary>A sentence under the plot saying how to read it (what was smoothed, what is hidden).</summary>
    public string? Caption { get; init; }

    /// <summary>Adds a series; one with no points is left out, so an empty plot says "no data" instead.</summary>
    public ChartFigure Add(ChartSeries series)
    {
        if (series.X.Count != series.Y.Count)
        {
            throw new ArgumentException($"series '{series.Name}' has {series.X.Count} x values and {series.Y.Count} y values", nameof(series));
        }
        if (series.X.Count > 0)
        {
            _series.Add(series);
        }
        return this;
    }

    /// <summary>
    /// Alternatives the reader picks from a menu above the plot (none: no menu); <see cref="ChosenIndex"/> is the one
    /// the figure's own series show at first.
    /// </summary>
    public IReadOnlyList<ChartChoice> Choices { get; init; } = [];

    public int ChosenIndex { get; init; }

    public ChartFigure Mark(IEnumerable<ChartMarker> markers)
    {
        _markers.AddRange(markers);
        return this;
    }

    /// <summary>The figure as plotly.js JSON; '&lt;', '&gt;' and '&amp;' are escaped, so it can sit inside a script element.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("data");
            foreach (var s in _series)
            {
                WriteSeries(w, s);
            }
            w.WriteEndArray();
            WriteLayout(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteSeries(Utf8JsonWriter w, ChartSeries s)
    {
        w.WriteStartObject();
        w.WriteString("type", "scatter");
        w.WriteString("mode", s.Mode switch { ChartMode.Markers => "markers", ChartMode.LinesAndMarkers => "lines+markers", _ => "lines" });
        w.WriteString("name", s.Name);
        WriteNumbers(w, "x", s.X, 6);
        WriteNumbers(w, "y", s.Y, 4);
        w.WriteStartObject("line");
        w.WriteString("color", s.Colour);
        w.WriteNumber("width", s.Dotted ? 1 : 1.8);
        if (s.Dotted)
        {
            w.WriteString("dash", "dot");
        }
        if (s.Step)
        {
            w.WriteString("shape", "hv");
        }
        w.WriteEndObject();
        w.WriteStartObject("marker");
        w.WriteString("color", s.Colour);
        w.WriteNumber("size", 9);
        w.WriteEndObject();
        if (s.Hidden)
        {
            w.WriteString("visible", "legendonly");
        }
        if (s.Group is { } group)
        {
            w.WriteString("legendgroup", group);
            w.WriteStartObject("legendgrouptitle");
            w.WriteString("text", group);
            w.WriteEndObject();
        }
        string unit = s.Unit is { } u ? " " + u : "";
        if (s.PointLabels is { } labels)
        {
            w.WriteStartArray("text");
            foreach (var l in labels)
            {
                w.WriteStringValue(l);
            }
            w.WriteEndArray();
            w.WriteString("hovertemplate", "%{text}<br>x %{x:.4~g}, y %{y:.4~g}" + unit + "<extra></extra>");
        }
        else
        {
            w.WriteString("hovertemplate", "%{y:.4~g}" + unit);
        }
        w.WriteEndObject();
    }

    private void WriteLayout(Utf8JsonWriter w)
    {
        w.WriteStartObject("layout");
        w.WriteStartObject("title");
        w.WriteString("text", Title);
        w.WriteNumber("x", 0.01);
        w.WriteEndObject();
        w.WriteNumber("height", Height);
        w.WriteBoolean("autosize", true);
        w.WriteString("hovermode", UnifiedHover ? "x unified" : "closest");
        // A fixed right margin holds the legend, so every plot's time axis has the same length and the plots line up.
        w.WriteStartObject("margin");
        w.WriteNumber("l", 70);
        w.WriteNumber("r", LegendWidth);
        w.WriteNumber("t", 50);
        w.WriteNumber("b", 50);
        w.WriteBoolean("autoexpand", false);
        w.WriteEndObject();
        w.WriteBoolean("showlegend", true);
        w.WriteStartObject("legend");
        w.WriteString("groupclick", "toggleitem");
        w.WriteNumber("x", 1.01);
        w.WriteNumber("y", 1);
        w.WriteString("yanchor", "top");
        w.WriteEndObject();
        WriteAxis(w, "xaxis", X);
        WriteAxis(w, "yaxis", Y);
        w.WriteStartArray("shapes");
        foreach (var m in _markers)
        {
            w.WriteStartObject();
            w.WriteString("type", "line");
            w.WriteString("xref", "x");
            w.WriteString("yref", "paper");
            w.WriteNumber("x0", Math.Round(m.X, 6));
            w.WriteNumber("x1", Math.Round(m.X, 6));
            w.WriteNumber("y0", 0);
            w.WriteNumber("y1", 1);
            w.WriteStartObject("line");
            w.WriteString("color", m.Colour);
            w.WriteNumber("width", 1.2);
            w.WriteString("dash", "dash");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (Choices.Count > 0)
        {
            WriteMenu(w);
        }
        w.WriteStartArray("annotations");
        foreach (var m in _markers)
        {
            w.WriteStartObject();
            w.WriteString("xref", "x");
            w.WriteString("yref", "paper");
            w.WriteNumber("x", Math.Round(m.X, 6));
            w.WriteNumber("y", 1);
            w.WriteString("xanchor", "left");
            w.WriteString("yanchor", "top");
            w.WriteNumber("textangle", -90);
            w.WriteBoolean("showarrow", false);
            w.WriteString("text", m.Label);
            w.WriteString("hovertext", m.Detail);
            w.WriteString("bgcolor", "rgba(255,255,255,0.75)");
            w.WriteStartObject("font");
            w.WriteNumber("size", 10);
            w.WriteString("color", m.Colour);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (_series.Count == 0)
        {
            w.WriteStartObject();
            w.WriteString("xref", "paper");
            w.WriteString("yref", "paper");
            w.WriteNumber("x", 0.5);
            w.WriteNumber("y", 0.5);
            w.WriteBoolean("showarrow", false);
            w.WriteString("text", "no data");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void WriteMenu(Utf8JsonWriter w)
    {
        w.WriteStartArray("updatemenus");
        w.WriteStartObject();
        w.WriteString("type", "buttons");
        w.WriteString("direction", "right");
        w.WriteNumber("active", ChosenIndex);
        // Centred over the plot: the title is on the left, plotly's own buttons on the right.
        w.WriteNumber("x", 0.5);
        w.WriteString("xanchor", "center");
        w.WriteNumber("y", 1.02);
        w.WriteString("yanchor", "bottom");
        w.WriteStartObject("pad");
        w.WriteNumber("t", 0);
        w.WriteNumber("r", 0);
        w.WriteEndObject();
        w.WriteStartObject("font");
        w.WriteNumber("size", 11);
        w.WriteEndObject();
        w.WriteStartArray("buttons");
        foreach (var c in Choices)
        {
            w.WriteStartObject();
            w.WriteString("label", c.Label);
            w.WriteString("method", "update");
            w.WriteStartArray("args");
            w.WriteStartObject();
            w.WriteStartArray("y");
            foreach (var (_, y) in c.Y)
            {
                WriteNumbers(w, null, y, 4);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("title.text", c.Title);
            w.WriteEndObject();
            w.WriteStartArray();
            foreach (var (series, _) in c.Y)
            {
                w.WriteNumberValue(series);
            }
            w.WriteEndArray();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void WriteAxis(Utf8JsonWriter w, string name, ChartAxis axis)
    {
        w.WriteStartObject(name);
        w.WriteStartObject("title");
        w.WriteString("text", axis.Title);
        w.WriteEndObject();
        w.WriteString("ticks", "outside");
        w.WriteBoolean("showline", true);
        w.WriteBoolean("mirror", true);
        w.WriteString("linecolor", "#888");
        w.WriteBoolean("zeroline", false);
        if (axis.Log)
        {
            w.WriteString("type", "log");
        }
        if (axis.Categories is { } names)
        {
            w.WriteStartArray("tickvals");
            for (int i = 0; i < names.Count; i++)
            {
                w.WriteNumberValue(i);
            }
            w.WriteEndArray();
            w.WriteStartArray("ticktext");
            foreach (string n in names)
            {
                w.WriteStringValue(n);
            }
            w.WriteEndArray();
            w.WriteStartArray("range");
            w.WriteNumberValue(-0.5);
            w.WriteNumberValue(names.Count - 0.5);
            w.WriteEndArray();
        }
        if (axis.Min is { } min && axis.Max is { } max && !axis.Log)
        {
            w.WriteStartArray("range");
            w.WriteNumberValue(axis.Reversed ? max : min);
            w.WriteNumberValue(axis.Reversed ? min : max);
            w.WriteEndArray();
        }
        else if (axis.Reversed)
        {
            w.WriteString("autorange", "reversed");
        }
        else if (axis.Min is { } floor && !axis.Log)
        {
            // Only a floor (a rate or a count starts at 0): plotly picks the top.
            w.WriteString("rangemode", floor == 0 ? "tozero" : "normal");
        }
        w.WriteEndObject();
    }

    private static void WriteNumbers(Utf8JsonWriter w, string? name, IReadOnlyList<double> values, int decimals)
    {
        if (name is null)
        {
            w.WriteStartArray();
        }
        else
        {
            w.WriteStartArray(name);
        }
        foreach (double v in values)
        {
            if (double.IsFinite(v))
            {
                w.WriteNumberValue(Math.Round(v, decimals));
            }
            else
            {
                w.WriteNullValue(); // a gap in the line
            }
        }
        w.WriteEndArray();
    }
}
