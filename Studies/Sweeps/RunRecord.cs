using System.Text.Json;
using System.Text.Json.Serialization;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// A finished run, as its <c>done</c> marker records it: exit code, status, wall time, and why it failed or what
/// went wrong on the way. Written last into the run's folder, so a run with the marker has all its files.
/// </summary>
public sealed record RunRecord(
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("exit_code")] int ExitCode,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("wall_s")] double WallSeconds,
    [property: JsonPropertyName("errors")] IReadOnlyList<string> Errors,
    [property: JsonPropertyName("warnings")] IReadOnlyList<string> Warnings)
{
    // A marker with a field missing or null does not parse (so it is not a finished run), rather than giving a record
    // whose null Errors or Status break the report or the tables.
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>The status of an exit code: ok (0), failed (1), bad-input (2), fault (3: completed, a consumer was ejected).</summary>
    public static string StatusOf(int exitCode) => exitCode switch
    {
        ExitCodes.Success => "ok",
        ExitCodes.CompletedWithFault => "fault",
        ExitCodes.BadInput => "bad-input",
        _ => "failed",
    };

    /// <summary>Whether the run completed and wrote its summary (ok or fault).</summary>
    [JsonIgnore]
    public bool Completed => ExitCode is ExitCodes.Success or ExitCodes.CompletedWithFault;

    public void Write(string runDirectory) =>
        SweepFiles.WriteAtomically(Path.Combine(runDirectory, SweepFiles.Done), JsonSerializer.Serialize(this, s_json) + "\n");

    /// <summary>The record in <paramref name="runDirectory"/>, or null when the run has not finished.</summary>
    public static RunRecord? Read(string runDirectory)
    {
        string path = Path.Combine(runDirectory, SweepFiles.Done);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), s_json);
        }
        catch (JsonException)
        {
            return null; // a marker that does not parse is not a finished run
        }
    }
}
