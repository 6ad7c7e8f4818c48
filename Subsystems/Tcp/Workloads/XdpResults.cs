using System.Text.Json.Serialization;

namespace BpfSim.Tcp.Workloads;

/// <summary>What the hooks of one interface did over a run (the <c>xdp</c> section of the summary).</summary>
/// <param name="Interface">NODE:PORT.</param>
/// <param name="Programs">What was attached there over the run, e.g. <c>xdp_src_counter (link, 0s–20s)</c>.</param>
public sealed record XdpInterfaceResult(
    [property: JsonPropertyName("interface")] string Interface,
    [property: JsonPropertyName("ifindex")] uint Ifindex,
    [property: JsonPropertyName("programs")] IReadOnlyList<string> Programs)
{
    [JsonPropertyName("pass")]
    public long Pass { get; init; }

    [JsonPropertyName("drop")]
    public long Drop { get; init; }

    [JsonPropertyName("tx")]
    public long Tx { get; init; }

    [JsonPropertyName("redirect")]
    public long Redirect { get; init; }

    /// <summary>XDP_ABORTED, unknown actions and program faults: the xdp_exception trace point's count.</summary>
    [JsonPropertyName("aborted")]
    public long Aborted { get; init; }

    [JsonPropertyName("tcx_drop")]
    public long TcxDrop { get; init; }

    [JsonPropertyName("redirect_failed")]
    public long RedirectFailed { get; init; }

    [JsonPropertyName("no_route")]
    public long NoRoute { get; init; }

    [JsonPropertyName("ttl_expired")]
    public long TtlExpired { get; init; }
}

/// <summary>A map of an XDP object, dumped at the end of the run as bpftool would.</summary>
/// <param name="Name">The map's name in its object (e.g. <c>src_counts</c>).</param>
/// <param name="Text">bpftool map dump's plain text.</param>
/// <param name="Json">bpftool -j map dump's elements.</param>
public sealed record XdpMapResult(string Name, uint Id, string Type, string Object, string Text, System.Text.Json.Nodes.JsonArray Json);
