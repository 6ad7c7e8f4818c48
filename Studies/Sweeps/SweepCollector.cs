using System.Globalization;
using System.Text.Json;
using BpfSim.Studies.Output;
using BpfSim.Studies.Runs;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// Builds a sweep's tables from its output folder alone — manifest.json, each run's <c>done</c> marker and
/// summary.json — so a local sweep, a resumed one and a cluster's chunks merged by <c>collect</c> write the same
/// sweep.csv and points.csv byte for byte. Wall times go to timing.csv only.
/// </summary>
public static class SweepCollector
{
    /// <summary>Writes sweep, points (CSV and/or Parquet) and timing.csv into <paramref name="outDir"/>.</summary>
    /// <exception cref="IOException">The manifest is missing or a file cannot be written.</exception>
    public static SweepCollection Collect(string outDir, OutputFormats formats)
    {
        var manifest = SweepManifest.Read(outDir);
        var runs = manifest.Runs.Select(r => Load(outDir, r)).ToList();
        var sweep = SweepTable(manifest, runs);
        var points = PointsTable(manifest, runs);
        var timing = new ResultTable().AddColumn("run", ResultColumnKind.String).AddColumn("wall_s", ResultColumnKind.Double);
        foreach (var run in runs)
        {
            timing.AddRow(run.Run.Id, run.Record?.WallSeconds);
        }
        var written = new List<string>();
        Write(sweep, outDir, "sweep", formats, written);
        Write(points, outDir, "points", formats, written);
        string timingPath = Path.Combine(outDir, "timing.csv");
        timing.WriteCsv(timingPath);
        written.Add(timingPath);
        return new SweepCollection(runs.Select(r => (r.Run.Id, r.Record)).ToList(), written);
    }

    private sealed record Collected(ManifestRun Run, RunRecord? Record, IReadOnlyList<SweepMetric> Metrics);

    private static Collected Load(string outDir, ManifestRun run)
    {
        string directory = SweepFiles.RunDirectory(outDir, run.Id);
        var record = RunRecord.Read(directory);
        string summary = Path.Combine(directory, "summary.json");
        if (record is not { Completed: true } || !File.Exists(summary))
        {
            return new Collected(run, record, []);
        }
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(File.ReadAllText(summary));
        }
        catch (JsonException e)
        {
            // A run marked done whose summary was cut or edited: name the file rather than fail inside.
            throw new IOException($"{summary}: not a run summary (line {(e.LineNumber ?? 0) + 1}: not valid JSON); run {run.Id} again with --resume after deleting its folder", e);
        }
        using (json)
        {
            return new Collected(run, record, SweepMetrics.From(json.RootElement));
        }
    }

    /// <summary>Every metric column any run has, in the order they first appear in run order.</summary>
    private static List<(string Name, ResultColumnKind Kind)> MetricColumns(IEnumerable<Collected> runs)
    {
        var columns = new List<(string, ResultColumnKind)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var metric in runs.SelectMany(r => r.Metrics))
        {
            if (seen.Add(metric.Name))
            {
                columns.Add((metric.Name, metric.Kind));
            }
        }
        return columns;
    }

    private static ResultTable SweepTable(SweepManifest manifest, List<Collected> runs)
    {
        var table = new ResultTable().AddColumn("point", ResultColumnKind.String);
        for (int i = 0; i < manifest.Grid.Count; i++)
        {
            table.AddColumn(manifest.Grid[i].Key, manifest.KindOf(i));
        }
        table.AddColumn("seed", ResultColumnKind.Integer).AddColumn("run", ResultColumnKind.String);
        var metrics = MetricColumns(runs);
        foreach (var (name, kind) in metrics)
        {
            table.AddColumn(name, kind);
        }
        table.AddColumn("exit_code", ResultColumnKind.Integer).AddColumn("status", ResultColumnKind.String);
        var points = manifest.Points.ToDictionary(p => p.Id, StringComparer.Ordinal);
        foreach (var run in runs)
        {
            var row = new List<object?> { run.Run.Point };
            row.AddRange(GridCells(manifest, points[run.Run.Point]));
            row.Add((long)run.Run.Seed);
            row.Add(run.Run.Id);
            var values = run.Metrics.ToDictionary(m => m.Name, StringComparer.Ordinal);
            row.AddRange(metrics.Select(c => values.TryGetValue(c.Name, out var m) ? Cell(m.Kind, m.Value) : null));
            row.Add(run.Record?.ExitCode);
            row.Add(run.Record?.Status ?? "missing");
            table.AddRow([.. row]);
        }
        return table;
    }

    private static ResultTable PointsTable(SweepManifest manifest, List<Collected> runs)
    {
        var table = new ResultTable().AddColumn("point", ResultColumnKind.String);
        for (int i = 0; i < manifest.Grid.Count; i++)
        {
            table.AddColumn(manifest.Grid[i].Key, manifest.KindOf(i));
        }
        table.AddColumn("runs", ResultColumnKind.Integer).AddColumn("completed", ResultColumnKind.Integer);
        var metrics = MetricColumns(runs);
        foreach (var (name, _) in metrics)
        {
            table.AddColumn($"{name}_mean", ResultColumnKind.Double).AddColumn($"{name}_ci95", ResultColumnKind.Double);
        }
        // Grouped once: a sweep may have up to 100,000 runs and as many points, too many to scan the runs per point.
        var byPoint = runs.ToLookup(r => r.Run.Point, StringComparer.Ordinal);
        foreach (var point in manifest.Points)
        {
            var mine = byPoint[point.Id].ToList();
            var completed = mine.Where(r => r.Metrics.Count > 0).ToList();
            var row = new List<object?> { point.Id };
            row.AddRange(GridCells(manifest, point));
            row.Add((long)mine.Count);
            row.Add((long)completed.Count);
            foreach (var (name, _) in metrics)
            {
                var sample = completed.SelectMany(r => r.Metrics.Where(m => m.Name == name).Select(m => m.Value)).ToList();
                if (sample.Count == 0)
                {
                    row.Add(null);
                    row.Add(null);
                    continue;
                }
                var ci = ConfidenceInterval.Of(sample);
                row.Add(Math.Round(ci.Mean, 9));
                row.Add(ci.HalfWidth is { } h ? Math.Round(h, 9) : null);
            }
            table.AddRow([.. row]);
        }
        return table;
    }

    private static IEnumerable<object?> GridCells(SweepManifest manifest, ManifestPoint point) =>
        point.Values.Select((text, i) => manifest.KindOf(i) switch
        {
            ResultColumnKind.Integer => (object?)long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            ResultColumnKind.Double => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => text,
        });

    private static object Cell(ResultColumnKind kind, double value) => kind == ResultColumnKind.Integer ? (object)(long)value : value;

    private static void Write(ResultTable table, string outDir, string name, OutputFormats formats, List<string> written)
    {
        if (formats.HasFlag(OutputFormats.Csv))
        {
            string csv = Path.Combine(outDir, name + ".csv");
            table.WriteCsv(csv);
            written.Add(csv);
        }
        if (formats.HasFlag(OutputFormats.Parquet))
        {
            string parquet = Path.Combine(outDir, name + ".parquet");
            table.WriteParquet(parquet);
            written.Add(parquet);
        }
    }
}
