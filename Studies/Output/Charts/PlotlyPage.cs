using System.Net;
using System.Text;

namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// A self-contained HTML page of tables and plotly.js figures: the library inline (<see cref="PlotlyJs"/>), each
/// figure's JSON inline, nothing fetched. Figures span the page's width and follow it when the window is resized.
/// </summary>
public sealed class PlotlyPage(string title)
{
    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:16px 24px;color:#222}h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}" +
        "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}" +
        "th{background:#f4f4f4}td.l,th.l{text-align:left}.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;" +
        "margin-right:6px;vertical-align:-1px}.figure{width:100%;min-height:120px}.caption{color:#555;font-size:.9em;margin:0 0 18px 8px}" +
        ".warn{color:#b00}pre{background:#f7f7f7;padding:8px;overflow-x:auto}.scroll{max-height:440px;overflow-y:auto;display:inline-block}" +
        ".scroll th{position:sticky;top:0}.wide{max-width:100%;overflow-x:auto}";

    private readonly StringBuilder _body = new();
    private readonly List<ChartFigure> _figures = [];

    /// <summary>
    /// Null (the default): plotly.js is inline and the page stands alone. Otherwise the relative path of a copy of
    /// <see cref="PlotlyJs.Source"/> the page loads from beside it (<see cref="PlotlyJs.WriteFile"/>), for many pages
    /// that would each carry the same 3.6 MB, such as a sweep's runs. Either way nothing is fetched from the network.
    /// </summary>
    public string? LibraryPath { get; init; }

    /// <summary>The figures added so far, in page order.</summary>
    public IReadOnlyList<ChartFigure> Figures => _figures;

    /// <summary>Appends HTML as it is (the caller encodes text with <see cref="Encode"/>).</summary>
    public PlotlyPage Html(string html)
    {
        _body.Append(html);
        return this;
    }

    /// <summary>Appends a figure at this point of the page.</summary>
    public PlotlyPage Figure(ChartFigure figure)
    {
        _body.Append($"<div class=\"figure\" id=\"plot-{_figures.Count}\"></div>");
        if (figure.Caption is { } caption)
        {
            _body.Append($"<p class=\"caption\">{Encode(caption)}</p>");
        }
        _figures.Add(figure);
        return this;
    }

    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    public string Render()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append($"<title>{Encode(title)}</title><style>{Style}</style>");
        html.Append(LibraryPath is { } path
            ? $"<script src=\"{Encode(path)}\" charset=\"utf-8\"></script></head><body>"
            : $"<script>/* plotly.js {PlotlyJs.Version}, from Plotly.NET */{PlotlyJs.Source}</script></head><body>");
        html.Append(_body);
        html.Append("<script>(function(){const figures=[");
        for (int i = 0; i < _figures.Count; i++)
        {
            html.Append(i == 0 ? "" : ",").Append(_figures[i].ToJson());
        }
        html.Append("];const config={responsive:true,displaylogo:false};");
        // One plot that fails to draw says so in its place and leaves the others drawn.
        html.Append("figures.forEach(function(f,i){try{Plotly.newPlot('plot-'+i,f.data,f.layout,config);}catch(e){");
        html.Append("document.getElementById('plot-'+i).textContent='this plot failed to draw: '+e;console.error(e);}});})();</script>");
        html.Append("</body></html>");
        return html.ToString();
    }
}
