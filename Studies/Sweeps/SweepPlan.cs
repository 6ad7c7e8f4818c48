using System.Globalization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Studies.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// A sweep expanded into its points and runs, every point checked as <c>bpfsim validate</c> checks a scenario before
/// anything runs. Points are numbered in a fixed order (grid keys in file order, the last key varying fastest) and
/// runs are point-major, seed-minor; a run's id is <c>POINT-SEED</c> (<c>p003-s07</c>).
/// </summary>
public sealed class SweepPlan
{
    private SweepPlan(SweepFile file, IReadOnlyList<SweepPoint> points, IReadOnlyList<SweepRun> runs)
    {
        (File, Points, Runs) = (file, points, runs);
    }

    public SweepFile File { get; }

    public IReadOnlyList<SweepPoint> Points { get; }

    /// <summary>Every run, in order: each point with each seed.</summary>
    public IReadOnlyList<SweepRun> Runs { get; }

    /// <summary>Reads the sweep file at <paramref name="path"/> and expands it (<see cref="Expand"/>).</summary>
    /// <exception cref="ScenarioException">The sweep file, the base scenario or a point has problems.</exception>
    public static SweepPlan Load(string path, BpfSimFactory factory, ConsumerCatalog catalog) => Expand(SweepParser.Load(path), factory, catalog);

    /// <summary>
    /// Puts every combination of the grid's values into the base scenario and checks each result as a scenario file.
    /// A grid key the base has no place for is reported at the sweep file's line; a point that is not a valid
    /// scenario at the base file's line, naming the point.
    /// </summary>
    /// <exception cref="ScenarioException">The base scenario cannot be read, a key has no place in it, or a point has problems.</exception>
    public static SweepPlan Expand(SweepFile file, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        string baseText;
        try
        {
            baseText = ScenarioText.Read(file.BasePath, file.BasePath);
        }
        catch (ScenarioException e)
        {
            throw new ScenarioException([new ScenarioError(file.Path, file.BaseLine, file.BaseColumn, $"base: {e.Errors[0].Message} ({file.BasePath})")]);
        }
        var root = BaseTree(baseText, file.BasePath);
        var errors = new List<ScenarioError>();
        var splices = new List<ScenarioSplice>();
        foreach (var axis in file.Axes)
        {
            if (ScenarioSplice.Find(root, baseText, axis.Path, out var why) is { } splice)
            {
                splices.Add(splice);
            }
            else
            {
                errors.Add(new ScenarioError(file.Path, axis.Line, axis.Column, $"grid: {axis.Key}: {why} ({file.BasePath})"));
            }
        }
        if (errors.Count > 0)
        {
            throw new ScenarioException(errors);
        }
        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(file.BasePath))!;
        int digits = Math.Max(3, (file.PointCount - 1).ToString(CultureInfo.InvariantCulture).Length);
        var points = new List<SweepPoint>();
        var problems = new Dictionary<(string, int, int, string), (string First, int Count)>();
        var order = new List<(string File, int Line, int Column, string Message)>();
        for (int index = 0; index < file.PointCount; index++)
        {
            var values = Values(file.Axes, index);
            string id = "p" + index.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
            string text = ScenarioSplice.Apply(baseText, splices.Select((s, i) => (s, values[i].Yaml)).ToList());
            string where = $"point {id} ({Describe(file.Axes, values)})";
            try
            {
                var scenario = ScenarioLoader.LoadText(text, file.BasePath, baseDirectory, factory, catalog);
                var estimate = scenario.Estimate();
                if (!estimate.Fits)
                {
                    throw new ScenarioException([new ScenarioError(file.BasePath, 1, 1, $"this run would not fit in memory: {estimate}")]);
                }
                points.Add(new SweepPoint(index, id, values, text, scenario));
            }
            catch (ScenarioException e)
            {
                foreach (var error in e.Errors)
                {
                    var key = (error.File, error.Line, error.Column, error.Message);
                    if (problems.TryGetValue(key, out var seen))
                    {
                        problems[key] = (seen.First, seen.Count + 1);
                    }
                    else
                    {
                        problems[key] = (where, 1);
                        order.Add(key);
                    }
                }
            }
        }
        if (order.Count > 0)
        {
            throw new ScenarioException(order.Select(k =>
            {
                var (first, count) = problems[k];
                string which = count == 1 ? first : $"{first} and {count - 1} other point{(count == 2 ? "" : "s")}";
                return new ScenarioError(k.File, k.Line, k.Column, $"{which}: {k.Message}");
            }).ToList());
        }
        int seedDigits = Math.Max(2, file.Seeds.Max().ToString(CultureInfo.InvariantCulture).Length);
        var runs = new List<SweepRun>();
        foreach (var point in points)
        {
            foreach (ulong seed in file.Seeds)
            {
                runs.Add(new SweepRun(runs.Count, point, seed, $"{point.Id}-s{seed.ToString(CultureInfo.InvariantCulture).PadLeft(seedDigits, '0')}"));
            }
        }
        return new SweepPlan(file, points, runs);
    }

    /// <summary>The grid values of point <paramref name="index"/>: the last key varies fastest.</summary>
    public static IReadOnlyList<GridValue> Values(IReadOnlyList<GridAxis> axes, int index)
    {
        var values = new GridValue[axes.Count];
        for (int i = axes.Count - 1; i >= 0; i--)
        {
            values[i] = axes[i].Values[index % axes[i].Values.Count];
            index /= axes[i].Values.Count;
        }
        return values;
    }

    /// <summary><c>key=value, key=value</c>, for messages.</summary>
    public static string Describe(IReadOnlyList<GridAxis> axes, IReadOnlyList<GridValue> values) =>
        axes.Count == 0 ? "the base scenario" : string.Join(", ", axes.Select((a, i) => $"{a.Key}={values[i].Cell}"));

    private static YamlMappingNode BaseTree(string text, string name)
    {
        YamlGuard.Check(text, name);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw YamlGuard.Error(name, e.Start, $"not valid YAML: {YamlGuard.Message(e)}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ScenarioException([new ScenarioError(name, 1, 1, $"not valid YAML: {e.Message}")]);
        }
        return stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode root
            ? root
            : throw new ScenarioException([new ScenarioError(name, 1, 1, "the base of a sweep is a scenario file: one mapping (seed, duration, network, flows, ...)")]);
    }
}
