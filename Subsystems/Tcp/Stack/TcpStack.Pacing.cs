namespace BpfSim.Tcp.Stack;

/// <summary>
/// Pacing with the earliest-departure-time model of net/ipv4/tcp_output.c: tcp_wstamp_ns is when the next skb may
/// leave; every transmission moves it to at least now, and a paced skb then pushes it on by its length at
/// sk_pacing_rate; each packet carries its skb's departure time (skb->tstamp, <see cref="Net.Packet.Tstamp"/>).
/// An algorithm that sets sk_pacing_status to SK_PACING_NEEDED (BBR) is held back by it here (internal pacing,
/// tcp_needs_internal_pacing). A socket whose packets pass an fq qdisc (<see cref="Net.FqQueue"/>) is set to
/// SK_PACING_FQ by it, whatever its algorithm, and is paced by its timestamps: on a Linux host fq holds each skb
/// until its time and TCP small queues keep the socket from running far ahead; the simulated host has no qdisc and
/// no TSQ, so the stack holds the skb until its departure time itself, which is the same instant. CUBIC and Reno
/// on other queues stay at SK_PACING_NONE and are not paced, as on a host with pfifo_fast.
/// </summary>
public sealed partial class TcpStack : Net.ISocketPacing
{
    /// <summary>SK_PACING_NONE, SK_PACING_NEEDED, SK_PACING_FQ (include/net/sock.h).</summary>
    internal const uint SkPacingNone = 0, SkPacingNeeded = 1, SkPacingFq = 2;

    /// <inheritdoc/>
    ulong Net.ISocketPacing.PacingRate(int flow) => (uint)flow < (uint)_connections.Count ? _socks[flow].SkPacingRate : ulong.MaxValue;

    /// <inheritdoc/>
    void Net.ISocketPacing.SetPacingFq(int flow)
    {
        if ((uint)flow < (uint)_connections.Count)
        {
            _socks[flow].SkPacingStatus = SkPacingFq;
        }
    }

    /// <summary>tcp_update_skb_after_send: sch_fq's habit of not pacing a flow's first 10 MSS, which TCP copied.</summary>
    internal const uint UnpacedDataSegs = 10;

    /// <summary>
    /// tcp_pacing_check (net/ipv4/tcp_output.c): with internal pacing and a departure time still ahead of
    /// tcp_clock_cache, arm the pacing hrtimer for it (unless armed) and stop sending. A socket paced by fq waits
    /// the same way (see the type's remarks).
    /// </summary>
    /// <returns>True if the socket must wait for the pacing timer.</returns>
    private bool PacingCheck(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        if (sk.SkPacingStatus == SkPacingNone || sk.TcpWstampNs <= sk.TcpClockCache)
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
