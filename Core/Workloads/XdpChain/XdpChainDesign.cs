namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The three ways of running several independent components' programs on one hook (docs/multi-prog.md).</summary>
public enum XdpChainDesign
{
    /// <summary>The 2019 chain-call proposal: a map from (program id, action) to the next program, attached to the XDP hook.</summary>
    ChainCallMap,

    /// <summary>libxdp: a dispatcher program with 10 freplace slots, rebuilt and swapped atomically on every change.</summary>
    Libxdp,

    /// <summary>bpf_mprog behind tcx: BEFORE/AFTER/REPLACE attach with a revision for compare-and-swap.</summary>
    Mprog,
}
