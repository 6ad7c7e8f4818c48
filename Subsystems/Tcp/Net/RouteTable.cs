namespace BpfSim.Tcp.Net;

/// <summary>The <see cref="RouteEntry"/> of every route of a network, indexed by route id, each within one line.</summary>
internal sealed class RouteTable : AlignedTable<RouteEntry>;
