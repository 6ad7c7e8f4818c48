namespace BpfSim.Tcp.Net;

/// <summary>
/// What <see cref="CodelAlgorithm.Dequeue"/> needs from the qdisc it runs in: codel_dequeue's dequeue_func and
/// drop_func callbacks and the backlog it reads (include/net/codel_impl.h).
/// </summary>
internal interface ICodelBackend
{
    /// <summary>dequeue_func: the head packet of queue <paramref name="flow"/>, or -1; the qdisc's backlog drops by it.</summary>
    int CodelDequeue(int flow);

    /// <summary>drop_func: frees a packet CoDel dropped and counts it.</summary>
    void CodelDrop(int packet, int flow);

    /// <summary>The qdisc's backlog in bytes (sch->qstats.backlog), after the packets taken so far.</summary>
    long CodelBacklog { get; }

    /// <summary>
    /// INET_ECN_set_ce on the packet; when it took (the packet is CE), counted in the qdisc's ecn_mark, or its ce_mark
    /// when <paramref name="ceThreshold"/> (codel_impl.h codel_dequeue).
    /// </summary>
    bool CodelSetCe(int packet, bool ceThreshold);

    /// <summary>The packet's enqueue time in ns (codel_get_enqueue_time).</summary>
    long CodelEnqueueTime(int packet);
}
