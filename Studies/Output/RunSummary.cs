using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Output;

/// <summary>The summary JSON of a TCP run (DESIGN §5; fields are added, never renamed).</summary>
public sealed record TcpRunSummary(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("subsystem")] string Subsystem,
    [property: JsonPropertyName("sim_time_s")] double SimTimeSeconds,
    [property: JsonPropertyName("wall_s")] double WallSeconds,
    [property: JsonPropertyName("events")] long Events,
    [property: JsonPropertyName("flows")] IReadOnlyList<FlowResult> Flows,
    [property: JsonPropertyName("links")] IReadOnlyList<LinkResult> Links,
    [property: JsonPropertyName("fairness")] FairnessResult Fairness,
    [property: JsonPropertyName("struct_ops")] IReadOnlyList<StructOpsSummary> StructOps,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes,
    [property: JsonPropertyName("manifest")] Manifest Manifest,
    [property: JsonPropertyName("faults")] IReadOnlyList<ConsumerFault> Faults,
    [property: JsonPropertyName("programs")] IReadOnlyList<Core.Ebpf.Loading.ProgramStats> Programs)
{
    /// <summary>The measurement window (<c>measure_from</c> … <c>measure_to</c>, else the whole run).</summary>
    [JsonPropertyName("window")]
    public WindowResult Window { get; init; } = new(0, 0);

    /// <summary>Per-algorithm totals over the window (<see cref="AlgorithmResult"/>).</summary>
    [JsonPropertyName("by_algorithm")]
    public IReadOnlyList<AlgorithmResult> ByAlgorithm { get; init; } = [];

    /// <summary>Flow completion times per sized-flow group (<see cref="FctResult"/>).</summary>
    [JsonPropertyName("fct")]
    public IReadOnlyList<FctResult> Fct { get; init; } = [];

    /// <summary>Flow completion times per size bin (<see cref="FctBinResult"/>).</summary>
    [JsonPropertyName("fct_bins")]
    public IReadOnlyList<FctBinResult> FctBins { get; init; } = [];

    /// <summary>The handshakes: SYN and SYN-ACK retries, flows that never connected, connect times (<see cref="HandshakeResult"/>).</summary>
    [JsonPropertyName("handshake")]
    public HandshakeResult Handshake { get; init; } = HandshakeResult.Empty;

    /// <summary>Per interface, what its XDP and tcx hooks did (<see cref="XdpInterfaceResult"/>); only with an <c>xdp:</c> section.</summary>
    [JsonPropertyName("xdp")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<XdpInterfaceResult>? Xdp { get; init; }

    /// <summary>CONFIG_HZ of the simulated kernels (the scenario's <c>hz</c>): the jiffy TCP's timers and CUBIC count in.</summary>
    [JsonPropertyName("hz")]
    public uint Hz { get; init; } = Jiffies.DefaultHz;

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static TcpRunSummary From(TcpScenarioSpec spec, TcpRunResult result, Manifest manifest) =>
        new(spec.Seed, "tcp", result.SimSeconds, Math.Round(result.WallSeconds, 3), result.Events, result.Flows, result.Links,
            result.Fairness, result.StructOps, result.Notes, manifest, result.Faults, result.Programs)
        {
            Window = result.Window, ByAlgorithm = result.ByAlgorithm, Fct = result.Fct, FctBins = result.FctBins, Xdp = result.Xdp,
            Handshake = result.Handshake, Hz = spec.Hz,
        };
}

/// <summary>What is needed to reproduce a result: tool version, scenario hash, seed, consumer assembly hashes.</summary>
public sealed record Manifest(
    [property: JsonPropertyName("tool_version")] string ToolVersion,
    [property: JsonPropertyName("scenario")] string Scenario,
    [property: JsonPropertyName("scenario_sha256")] string ScenarioSha256,
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("consumers")] IReadOnlyList<ConsumerHash> Consumers)
{
    /// <summary>
    /// What <c>bpfsim --version</c> prints: 0.1.(commits)+(commit hash) from a git checkout. The assemblies' own version
    /// stays 0.1.0 so that consumers built against another checkout load (Directory.Build.targets).
    /// </summary>
    public static string CurrentToolVersion { get; } =
        typeof(Manifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Manifest).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static Manifest For(string scenarioName, string scenarioText, ulong seed, IEnumerable<string> consumerSources) => new(
        CurrentToolVersion,
        scenarioName,
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scenarioText))),
        seed,
        consumerSources.Distinct().Select(ConsumerHash.Of).ToList());
}

/// <summary>A consumer's source (assembly file or built-in) and its SHA-256.</summary>
public sealed record ConsumerHash(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("sha256")] string Sha256)
{
    public static ConsumerHash Of(string source)
    {
        string path = File.Exists(source) ? source : typeof(BpfSim.Programs.ProgramsServiceCollectionExtensions).Assembly.Location;
        using var file = File.OpenRead(path);
        return new ConsumerHash(File.Exists(source) ? source : "builtin:" + source, Convert.ToHexStringLower(SHA256.HashData(file)));
    }
}
