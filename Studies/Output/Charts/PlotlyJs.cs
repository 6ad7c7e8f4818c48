using System.Reflection;

namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// plotly.js as Plotly.NET ships it: the minified bundle embedded in Plotly.NET.dll (the one Plotly.NET inlines for
/// <c>PlotlyJSReference.Full</c>), so a report carries its plotting library and opens with no network.
/// </summary>
public static class PlotlyJs
{
    private static readonly Lazy<string> s_source = new(Load);

    /// <summary>The bundle's plotly.js version (Plotly.NET's <c>Globals.PLOTLYJS_VERSION</c>).</summary>
    public static string Version => Globals.PLOTLYJS_VERSION;

    /// <summary>The minified bundle, safe to place inside a script element.</summary>
    public static string Source => s_source.Value;

    private static string Load()
    {
        Assembly plotlyNet = typeof(Plotly.NET.GenericChart).Assembly;
        string name = $"Plotly.NET.plotly-{Version}.min.js";
        using var stream = plotlyNet.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{plotlyNet.GetName().Name} {plotlyNet.GetName().Version} has no resource {name}");
        using var reader = new StreamReader(stream);
        // A "</script" inside the library would end the element early; in JavaScript "<\/" means the same.
        return reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
    }
}
