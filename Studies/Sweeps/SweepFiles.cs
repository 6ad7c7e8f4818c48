namespace BpfSim.Studies.Sweeps;

/// <summary>The names of a sweep's files, and writing them so a reader never sees half a file.</summary>
public static class SweepFiles
{
    /// <summary>The marker a run's folder gets last, when all its files are written.</summary>
    public const string Done = "done";

    /// <summary>The point's scenario, as the run ran it (<c>bpfsim run runs/ID/scenario.yaml --seed S</c> repeats it).</summary>
    public const string Scenario = "scenario.yaml";

    /// <summary>
    /// plotly.js, once for the whole sweep in OUT/: each run's report.html loads it from
    /// <see cref="PlotlyJsFromRun"/> instead of carrying its own 3.6 MB copy.
    /// </summary>
    public const string PlotlyJs = "plotly.min.js";

    /// <summary>Where a run's report finds <see cref="PlotlyJs"/>: OUT/runs/ID/ → OUT/.</summary>
    public const string PlotlyJsFromRun = "../../" + PlotlyJs;

    public static string RunDirectory(string outDir, string runId) => Path.Combine(outDir, "runs", runId);

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, then renames it.</summary>
    public static void WriteAtomically(string path, string text)
    {
        string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
