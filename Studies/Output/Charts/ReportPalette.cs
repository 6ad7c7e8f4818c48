namespace BpfSim.Studies.Output.Charts;

/// <summary>
/// Fixed colours, so a flow has the same colour in every plot and table of a report (and in every report of the same
/// scenario): flows by id, links by their order, events by kind.
/// </summary>
public static class ReportPalette
{
    // Tableau 10, then ten darker companions; flow 21 takes flow 1's colour again.
    private static readonly string[] s_flows =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363",
    ];

    private static readonly string[] s_links = ["#333333", "#6b6ecf", "#b5a642", "#c46b8a", "#4a9a8a"];

    /// <summary>Registration and link attach.</summary>
    public const string Attach = "#2a8a3a";
    /// <summary>Unregistration and link detach.</summary>
    public const string Detach = "#777777";
    /// <summary>A link update (BPF_LINK_UPDATE) moving the link to another map.</summary>
    public const string Update = "#1f5fbf";
    /// <summary>A consumer ejected for a fault.</summary>
    public const string Fault = "#cc0000";

    /// <summary>The colour of flow <paramref name="flowId"/> (ids from 1, as the flows table numbers them).</summary>
    public static string Flow(int flowId) => s_flows[(Math.Max(flowId, 1) - 1) % s_flows.Length];

    /// <summary>The colour of the <paramref name="index"/>-th link, or of the <paramref name="index"/>-th algorithm.</summary>
    public static string Other(int index) => index < s_links.Length ? s_links[index] : s_flows[index % s_flows.Length];

    /// <summary>How many flows have distinct colours.</summary>
    public static int FlowColours => s_flows.Length;
}
