using System.Reflection;

namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// plotly.js as Plotly.NET ships it: the minified bundle embedded in Plotly.NET.dll (the one Plotly.NET inlines for
/// <c>PlotlyJSReference.Full</c>), so a report carries its plotting library and opens with no network.
/// </summary>
public static class PlotlyJs
{
    private static readonly Lazy<string> s_source = new(Load);
    private static readonly Lazy<long> s_bytes = new(() => System.Text.Encoding.UTF8.GetByteCount(Source));

    /// <summary>The bundle's plotly.js version (Plotly.NET's <c>Globals.PLOTLYJS_VERSION</c>).</summary>
    public static string Version => Globals.PLOTLYJS_VERSION;

    /// <summary>The minified bundle, safe to place inside a script element.</summary>
    public static string Source => s_source.Value;

    /// <summary>
    /// Writes the bundle to <paramref name="path"/> unless a file of its size is there already (a sweep's workers each
    /// call this for every run: one writes, the others find it; a writer writes a temporary file and renames it, so a
    /// reader never sees half a bundle).
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void WriteFile(string path)
    {
        if (File.Exists(path) && new FileInfo(path).Length == s_bytes.Value)
        {
            return;
        }
        string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllText(temporary, Source);
        File.Move(temporary, path, overwrite: true);
    }

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
