namespace BpfSim.Tcp.Tracing;

/// <summary>What happened to a packet at a link (<see cref="ITcpTracer.Queue"/>).</summary>
public enum TcpQueueEvent : byte
{
    /// <summary>
    /// The queue discipline dropped it: on arrival (tail drop, RED, a byte limit, PIE, fq's limits), or from the queue
    /// (CoDel at dequeue, fq_codel's batch drop from its fattest flow).
    /// </summary>
    Drop = 0,
    /// <summary>
    /// The queue discipline set CE on it (RED with ECN, a step marking threshold, PIE with ECN on arrival; CoDel,
    /// fq_codel, ce_threshold and fq at dequeue).
    /// </summary>
    Mark = 1,
    /// <summary>The link's loss model lost it on the wire as its transmission started.</summary>
    WireLoss = 2,
}
