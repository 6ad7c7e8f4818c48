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

/// <summary>The names the CLI and the JSON use for <see cref="XdpChainDesign"/>.</summary>
public static class XdpChainDesignNames
{
    /// <summary>chain_call_map, libxdp, mprog.</summary>
    public static string Name(this XdpChainDesign design) => design switch
    {
        XdpChainDesign.ChainCallMap => "chain_call_map",
        XdpChainDesign.Libxdp => "libxdp",
        _ => "mprog",
    };

    /// <summary>Parses a name from <see cref="Name"/>.</summary>
    public static bool TryParse(string text, out XdpChainDesign design)
    {
        foreach (var d in Enum.GetValues<XdpChainDesign>())
        {
            if (d.Name() == text)
            {
                design = d;
                return true;
            }
        }
        design = default;
        return false;
    }
}
