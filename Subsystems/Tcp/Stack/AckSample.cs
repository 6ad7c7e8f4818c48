namespace BpfSim.Tcp.Stack;

/// <summary><c>struct ack_sample</c>: what pkts_acked receives.</summary>
public readonly record struct AckSample(uint PktsAcked, int RttUs, uint InFlight);
