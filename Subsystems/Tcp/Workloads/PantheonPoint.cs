namespace BpfSim.Tcp.Workloads;

/// <summary>
/// A point of Pantheon's throughput-delay plot: goodput over the measurement window against the 95th percentile of
/// the per-packet one-way delay, for one flow (<see cref="FlowId"/> set) or one algorithm's flows together (null).
/// </summary>
public sealed record PantheonPoint(string Cc, int? FlowId, double GoodputMbps, double OwdMsP95);
