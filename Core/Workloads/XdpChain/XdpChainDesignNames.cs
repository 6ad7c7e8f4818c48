namespace BpfSim.Core.Workloads.XdpChain;

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
