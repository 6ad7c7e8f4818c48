namespace BpfSim.Tcp.Stack;

/// <summary>
/// Internal pacing with the earliest-departure-time model of net/ipv4/tcp_output.c: tcp_wstamp_ns is when the next
/// skb may leave; every transmission moves it to at least now, and a paced skb then pushes it on by its length at
/// sk_pacing_rate. There is no fq qdisc on the modelled hosts, so only an algorithm that sets sk_pacing_status to
/// SK_PACING_NEEDED (BBR) is held back by it (tcp_needs_internal_pacing); CUBIC and Reno leave it at SK_PACING_NONE
/// and are not paced, as on a host with pfifo_fast.
/// </summary>
public sealed partial class TcpStack
{
    /// <summary>SK_PACING_NONE, SK_PACING_NEEDED (include/net/sock.h).</summary>
    internal const uint SkPacingNone = 0, SkPacingNeeded = 1;

    /// <summary>tcp_update_skb_after_send: sch_fq's habit of not pacing a flow's first 10 MSS, which TCP copied.</summary>
    internal const uint UnpacedDataSegs = 10;

    /// <summary>
    /// tcp_pacing_check (net/ipv4/tcp_output.c): with internal pacing and a departure time still ahead of
    /// tcp_clock_cache, arm the pacing hrtimer for it (unless armed) and stop sending.
    /// </summary>
    /// <returns>True if the socket must wait for the pacing timer.</returns>
    private bool PacingCheck(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        if (sk.SkPacingStatus != SkPacingNeeded || sk.TcpWstampNs <= sk.TcpClockCache)
        {
            return false;
        }
        if (!_sim.IsArmed(conn.PaceTimer))
        {
            _sim.Arm(conn.PaceTimer, new Core.Simulation.SimTime((long)sk.TcpWstampNs), conn.Id);
        }
        return true;
    }

    /// <summary>
    /// The start of __tcp_transmit_skb: the skb's departure time is max(tcp_wstamp_ns, tcp_clock_cache), which
    /// becomes the new tcp_wstamp_ns.
    /// </summary>
    /// <returns>prior_wstamp, the departure time before it was raised to now.</returns>
    private static ulong StampDeparture(ref TcpSock sk)
    {
        ulong prior = sk.TcpWstampNs;
        sk.TcpWstampNs = Math.Max(sk.TcpWstampNs, sk.TcpClockCache);
        return prior;
    }

    /// <summary>
    /// tcp_update_skb_after_send (net/ipv4/tcp_output.c), after a data skb of <paramref name="skbLen"/> bytes left:
    /// unless pacing is off, the rate is 0 or ~0UL, or fewer than 10 data segments have been sent (data_segs_out
    /// counts this skb), tcp_wstamp_ns moves on by skb->len × 10⁹ / sk_pacing_rate. skb->len is the write-queue skb's,
    /// which holds no headers (the clone sent gets them): the payload only. An idle socket's departure time lagged
    /// behind now; the lag, the credit, takes up to half of the delay off ("OS jitter").
    /// </summary>
    private void UpdateSkbAfterSend(TcpConnection conn, long skbLen, ulong priorWstamp)
    {
        ref var sk = ref _socks[conn.Id];
        if (sk.SkPacingStatus == SkPacingNone)
        {
            return;
        }
        ulong rate = sk.SkPacingRate;
        if (rate != ulong.MaxValue && rate != 0 && conn.DataSegsOut >= UnpacedDataSegs)
        {
            ulong lenNs = (ulong)skbLen * 1_000_000_000UL / rate; // an skb is at most 64 KiB: no overflow
            ulong credit = sk.TcpWstampNs - priorWstamp;
            lenNs -= Math.Min(lenNs / 2, credit);
            sk.TcpWstampNs += lenNs;
        }
    }
}
