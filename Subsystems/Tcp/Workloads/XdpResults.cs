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
/// <param name="Object">The object file (or the C# program) whose map it is.</param>
/// <param name="Interface">The interface (<c>NODE:PORT</c>) of the entry that loaded it.</param>
/// <param name="Text">bpftool map dump's plain text.</param>
/// <param name="Json">bpftool -j map dump's elements.</param>
public sealed record XdpMapResult(string Name, uint Id, string Type, string Object, string Interface, string Text, System.Text.Json.Nodes.JsonArray Json)
{
    /// <summary>
    /// What tells this map from the run's others: its <see cref="Name"/> when no other map has it; else
    /// <c>NAME@INTERFACE</c> (e.g. <c>src_counts@router_right:access</c>), with <c>#N</c> after it for the Nth map of
    /// that name on that interface (a program replaced by one of the same object), N from 2.
    /// </summary>
    public string Key { get; init; } = Name;

    /// <summary>The name of its file in <c>--out</c>'s maps folder, without <c>.json</c>: <see cref="Key"/> with ':' as '_'.</summary>
    public string FileStem => Key.Replace(':', '_');

    /// <summary>The maps of a run (in load order) with their <see cref="Key"/>s set.</summary>
    public static IReadOnlyList<XdpMapResult> Keyed(IReadOnlyList<XdpMapResult> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        var shared = maps.GroupBy(m => m.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        return maps.Select(m =>
        {
            if (!shared.Contains(m.Name))
            {
                return m;
            }
            string key = $"{m.Name}@{m.Interface}";
            int n = seen[key] = seen.GetValueOrDefault(key) + 1;
            return m with { Key = n == 1 ? key : $"{key}#{n}" };
        }).ToList();
    }
}
