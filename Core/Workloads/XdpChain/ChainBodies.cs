using BpfSim.Core.Bpf.Net;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The bodies of the components' programs: they hand the packet on at once (their cost is modelled).</summary>
public static class ChainBodies
{
    /// <summary>An XDP program that passes the packet (the chain-call map and libxdp chain on XDP_PASS).</summary>
    public static int XdpPass(ref PacketContext ctx) => (int)XdpAction.Pass;

    /// <summary>A tcx program that hands the packet to the next one (TCX_NEXT).</summary>
    public static int TcxNext(ref PacketContext ctx) => TcxAction.Next;
}
