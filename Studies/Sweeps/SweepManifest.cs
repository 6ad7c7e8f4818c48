using System.Text.Json;
using System.Text.Json.Serialization;
using BpfSim.Studies.Output;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// manifest.json of a sweep's output folder (docs/sweeps.md): what the sweep is — its file, base, grid, points, seeds,
/// runs — and how its runs are cut into chunks for a cluster's job array. <c>--only CHUNK</c> runs a chunk's runs and
/// <c>collect</c> builds the tables from it and the runs' files, without reading the sweep file again.
/// </summary>
public sealed record SweepManifest(
    [property: JsonPropertyName("sweep")] string Sweep,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("base")] string Base,
    [property: JsonPropertyName("grid")] IReadOnlyList<ManifestAxis> Grid,
    [property: JsonPropertyName("seeds")] IReadOnlyList<ulong> Seeds,
    [property: JsonPropertyName("points")] IReadOnlyList<ManifestPoint> Points,
    [property: JsonPropertyName("runs")] IReadOnlyList<ManifestRun> Runs,
    [property: JsonPropertyName("chunks")] IReadOnlyList<IReadOnlyList<string>> Chunks)
{
    public const string FileName = "manifest.json";

    // Every field is required and none may be null, so a hand-edited or truncated manifest is a JsonException (reported
    // as "not a sweep manifest") rather than a null that breaks --only or collect later.
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>The manifest of <paramref name="plan"/> with its runs dealt round-robin into <paramref name="chunks"/> chunks.</summary>
    public static SweepManifest For(SweepPlan plan, int chunks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunks);
        var file = plan.File;
        chunks = Math.Min(chunks, plan.Runs.Count);
        var dealt = Enumerable.Range(0, chunks).Select(c => (IReadOnlyList<string>)plan.Runs.Where(r => r.Index % chunks == c).Select(r => r.Id).ToList()).ToList();
        return new SweepManifest(Path.GetFullPath(file.Path), file.Name, Path.GetFullPath(file.BasePath),
            file.Axes.Select(a => new ManifestAxis(a.Key, a.Kind.ToString().ToLowerInvariant(), a.Values.Select(v => v.Cell).ToList())).ToList(),
            file.Seeds,
            plan.Points.Select(p => new ManifestPoint(p.Id, p.Values.Select(v => v.Cell).ToList())).ToList(),
            plan.Runs.Select(r => new ManifestRun(r.Id, r.Point.Id, r.Seed)).ToList(),
            dealt);
    }

    /// <summary>The column type of grid key <paramref name="i"/>.</summary>
    public ResultColumnKind KindOf(int i) => Enum.Parse<ResultColumnKind>(Grid[i].Kind, ignoreCase: true);

    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        SweepFiles.WriteAtomically(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, s_json) + "\n");
    }

    /// <summary>Reads <paramref name="directory"/>/manifest.json.</summary>
    /// <exception cref="IOException">It is missing, unreadable or not a sweep manifest.</exception>
    public static SweepManifest Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new IOException($"{path}: no such file (a sweep's output folder, or one written by --emit slurm, has it)");
        }
        try
        {
            return JsonSerializer.Deserialize<SweepManifest>(File.ReadAllText(path), s_json)
                   ?? throw new IOException($"{path}: empty");
        }
        catch (JsonException e)
        {
            // The serializer's message names its .NET type; where the JSON went wrong is what helps.
            throw new IOException($"{path}: not a sweep manifest (at line {(e.LineNumber ?? 0) + 1}{(string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $", {e.Path}")}): rewrite it with --emit, or run the sweep again", e);
        }
    }
}
