namespace BpfSim.Tcp.Tracing;

/// <summary>What happened to a packet at a link (<see cref="ITcpTracer.Queue"/>).</summary>
public enum TcpQueueEvent : byte
{
    /// <summary>The queue discipline dropped it on arrival (tail drop, RED or a byte limit).</summary>
    Drop = 0,
    /// <summary>The queue discipline set CE on it instead of dropping (RED with ECN, a step marking threshold).</summary>
    Mark = 1,
    /// <summary>The link's loss model lost it on the wire as its transmission started.</summary>
    WireLoss = 2,
}
