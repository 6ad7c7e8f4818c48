namespace BpfSim.Tcp.Net;

/// <summary>
/// What sch_fq reads and writes on the socket that sent a packet (skb->sk): its pacing rate, and its pacing status
/// (fq_classify stores SK_PACING_FQ, which tells TCP that a qdisc will pace it). The TCP stack implements it for
/// its sockets, the packet's flow id naming the socket.
/// </summary>
public interface ISocketPacing
{
    /// <summary>sk_pacing_rate of the socket of <paramref name="flow"/> in bytes per second; ~0UL for none.</summary>
    ulong PacingRate(int flow);

    /// <summary>smp_store_release(&amp;sk-&gt;sk_pacing_status, SK_PACING_FQ) for the socket of <paramref name="flow"/>.</summary>
    void SetPacingFq(int flow);
}
