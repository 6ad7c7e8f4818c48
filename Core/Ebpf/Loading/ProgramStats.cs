using System.Text.Json.Serialization;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// A bytecode program's run statistics (as <c>bpftool prog show</c> gives run_cnt, plus what it executed), and whether
/// it ran compiled (<c>jited</c>, as bpftool shows a program's JIT image) or in the interpreter (<c>--no-jit</c>).
/// </summary>
public sealed record ProgramStats(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("member")] string Member,
    [property: JsonPropertyName("run_cnt")] long RunCount,
    [property: JsonPropertyName("insns_executed")] long InstructionsExecuted,
    [property: JsonPropertyName("jited"), JsonPropertyOrder(1)] bool Jited)
{
    [JsonPropertyName("insns_per_run")]
    public double InstructionsPerRun => RunCount == 0 ? 0 : Math.Round(InstructionsExecuted / (double)RunCount, 2);

    /// <summary>The statistics of every program of the objects loaded into a kernel, in load order.</summary>
    public static IReadOnlyList<ProgramStats> Of(IEnumerable<LoadedObject> objects) =>
        objects.SelectMany(o => o.Programs.Values.Select(p =>
            new ProgramStats(Path.GetFileName(o.Source), p.Name, p.Member, p.RunCount, p.InstructionsExecuted, p.Jited))).ToList();
}
