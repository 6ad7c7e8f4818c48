namespace BpfSim.Tcp.Workloads;

/// <summary>
/// One sized flow's completion, for FCT distributions (a CDF per group or bin). FCT is from the connect (the SYN
/// leaving) to the ACK of the last byte at the sender. The ideal FCT is what the flow would take alone on an idle
/// network, as FCT studies normalise it (pFabric, Homa; ns-3's and htsim's FCT slowdown): one base RTT for the
/// handshake, one base RTT for the last byte and its ACK, and the size at the path's bottleneck rate:
/// 2 × base RTT + size × 8 / bottleneck rate (propagation only: no serialisation of headers or of the other hops, so
/// even an uncontended flow's slowdown is a little above 1, and slow start adds its rounds on top).
/// </summary>
/// <param name="FlowId">The flow's id (from 1).</param>
/// <param name="Group">The index of its entry in the scenario's <c>flows</c> list (from 0).</param>
/// <param name="Cc">Its algorithm.</param>
/// <param name="SizeBytes">Bytes it sent.</param>
/// <param name="StartSeconds">When it connected.</param>
/// <param name="FctMs">Its completion time; null when it did not complete before the run ended.</param>
/// <param name="IdealMs">2 × base RTT + size at the bottleneck rate.</param>
public sealed record FctSample(int FlowId, int Group, string Cc, long SizeBytes, double StartSeconds, double? FctMs, double IdealMs)
{
    /// <summary>FCT / ideal FCT; null when it did not complete.</summary>
    public double? Slowdown => FctMs / IdealMs;
}
