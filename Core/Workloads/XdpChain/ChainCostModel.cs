namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// Simulated CPU time of one packet's pass through the hook, from what the hook did (counted by the packet
/// observer): a fixed hook entry, an indirect call per program run, each component program's own modelled cost,
/// the dispatcher's body per run and per slot, a hash lookup per chain-call map step, and the tcx loop per entry.
/// </summary>
/// <remarks>
/// Defaults are rounded from the kernel's own numbers on a ~3 GHz x86 core (docs/multi-prog.md §cost): an indirect
/// call through a retpoline ~4 ns (bpf_prog_run_xdp, the freplace trampoline jump in a dispatcher slot), the
/// dispatcher's rodata test per slot ~1 ns, a BPF hash map lookup with an 8-byte key ~20 ns, the tcx run loop's
/// per-entry work ~1 ns, the XDP/tcx hook entry ~5 ns.
/// </remarks>
public sealed record ChainCostModel
{
    public double HookEntryNs { get; init; } = 5;
    public double ProgramCallNs { get; init; } = 4;
    /// <summary>The dispatcher program's own body (outside its slots).</summary>
    public double DispatcherBodyNs { get; init; } = 3;
    /// <summary>Per component run from a dispatcher slot: the chain-call mask test.</summary>
    public double DispatcherSlotNs { get; init; } = 1;
    public double ChainLookupNs { get; init; } = 20;
    public double TcxEntryNs { get; init; } = 1;

    /// <summary>One packet's simulated cost.</summary>
    /// <param name="design">Which hook and mechanism ran.</param>
    /// <param name="componentRuns">Component program runs.</param>
    /// <param name="componentBodyNs">The sum of those runs' own modelled cost.</param>
    /// <param name="otherRuns">Other program runs (libxdp's dispatcher).</param>
    /// <param name="chainLookups">Chain-call map lookups.</param>
    public double PacketNs(XdpChainDesign design, int componentRuns, double componentBodyNs, int otherRuns, int chainLookups)
    {
        double ns = HookEntryNs + (componentRuns + otherRuns) * ProgramCallNs + componentBodyNs;
        return design switch
        {
            XdpChainDesign.ChainCallMap => ns + chainLookups * ChainLookupNs,
            XdpChainDesign.Libxdp => ns + otherRuns * DispatcherBodyNs + componentRuns * DispatcherSlotNs,
            _ => ns + componentRuns * TcxEntryNs,
        };
    }
}
