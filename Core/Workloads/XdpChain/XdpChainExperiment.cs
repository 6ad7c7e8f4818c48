namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// Runs a multi-program scenario under each design (docs/multi-prog.md): the same components, timelines, packet
/// stream and seed, one fresh simulated kernel per design.
/// </summary>
public static class XdpChainExperiment
{
    /// <summary>All three designs, in the order the table shows them.</summary>
    public static IReadOnlyList<XdpChainDesign> AllDesigns { get; } = Enum.GetValues<XdpChainDesign>();

    /// <summary>Runs <paramref name="scenario"/> under each of <paramref name="designs"/>.</summary>
    /// <exception cref="ArgumentException">The scenario is inconsistent (see <see cref="XdpChainScenario.Validate"/>).</exception>
    public static IReadOnlyList<XdpChainResult> Run(XdpChainScenario scenario, IEnumerable<XdpChainDesign> designs) =>
        designs.Select(d => Run(scenario, d)).ToList();

    /// <summary>Runs <paramref name="scenario"/> under <paramref name="design"/>.</summary>
    public static XdpChainResult Run(XdpChainScenario scenario, XdpChainDesign design) => new XdpChainRun(scenario, design).Execute();
}
