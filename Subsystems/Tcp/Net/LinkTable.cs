namespace BpfSim.Tcp.Net;

/// <summary>
/// The <see cref="LinkState"/> of every link of a network, indexed by link id, each record on a 128-byte boundary
/// (two lines, both prefetched together).
/// </summary>
internal sealed class LinkTable : AlignedTable<LinkState>;
