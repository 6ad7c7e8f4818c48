using System.Text.Json;
using System.Text.Json.Serialization;
using BpfSim.Core.Workloads.XdpChain;

namespace BpfSim.Cli.Commands;

/// <summary>The JSON of <c>bpfsim experiment xdp-chain</c>: <c>{"designs": [...]}</c> and the run's identity.</summary>
public sealed record XdpChainSummary(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("scenario")] string Scenario,
    [property: JsonPropertyName("wall_s")] double WallSeconds,
    [property: JsonPropertyName("designs")] IReadOnlyList<XdpChainResult> Designs)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
