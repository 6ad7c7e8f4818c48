using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

internal static partial class BbrMath
{
    /// <summary>
    /// bbr_set_cwnd_to_recover_or_restore: deduct this ACK's losses; on the first round of Recovery send one packet
    /// per packet acked (packet conservation, cwnd cut to inflight + acked); on leaving Recovery or Loss restore the
    /// cwnd saved before it. Records the CA state for the next ACK.
    /// </summary>
    /// <returns>True while packet conservation sets cwnd (<paramref name="newCwnd"/> is final).</returns>
    public static bool SetCwndToRecoverOrRestore(ref TcpSock sk, ref BbrState bbr, in RateSample rs, uint acked, out uint newCwnd)
    {
        var prevState = bbr.PrevCaState;
        var state = sk.IcskCaState;
        uint cwnd = sk.SndCwnd;

        // An ACK for P packets releases at most 2P: losses come off here, bbr_set_cwnd adds acked back.
        if (rs.Losses > 0)
        {
            cwnd = (uint)Math.Max((int)(cwnd - (uint)rs.Losses), 1);
        }

        if (state == TcpCaState.Recovery && prevState != TcpCaState.Recovery)
        {
            bbr.PacketConservation = true;
            bbr.NextRttDelivered = sk.Delivered; // start a round now
            cwnd = sk.PacketsInFlight + acked;   // drop cwnd the app, TSQ or TSO deferral left unused
        }
        else if (prevState >= TcpCaState.Recovery && state < TcpCaState.Recovery)
        {
            cwnd = Math.Max(cwnd, bbr.PriorCwnd);
            bbr.PacketConservation = false;
        }
        bbr.PrevCaState = state;

        if (bbr.PacketConservation)
        {
            newCwnd = Math.Max(cwnd, sk.PacketsInFlight + acked);
            return true;
        }
        newCwnd = cwnd;
        return false;
    }

    /// <summary>
    /// bbr_set_cwnd: slow-start toward the target (gain × BDP + aggregation allowance + quantization budget), or,
    /// once the pipe is full, snap down to it; never below 4 packets, never above snd_cwnd_clamp, and held at 4
    /// in PROBE_RTT.
    /// </summary>
    public static void SetCwnd(ref TcpSock sk, ref BbrState bbr, in RateSample rs, uint acked, uint bw, uint gain)
    {
        uint cwnd = sk.SndCwnd;
        if (acked != 0 && !SetCwndToRecoverOrRestore(ref sk, ref bbr, rs, acked, out cwnd))
        {
            uint targetCwnd = Bdp(bbr, bw, gain);
            targetCwnd += AckAggregationCwnd(bbr);
            targetCwnd = QuantizationBudget(sk, bbr, targetCwnd);

            if (bbr.FullBwReached)
            {
                cwnd = Math.Min(cwnd + acked, targetCwnd); // only cut cwnd once the pipe was filled
            }
            else if (cwnd < targetCwnd || sk.Delivered < TcpSock.InitCwnd)
            {
                cwnd += acked;
            }
            cwnd = Math.Max(cwnd, CwndMinTarget);
        }
        sk.SndCwnd = Math.Min(cwnd, sk.SndCwndClamp);
        if (bbr.Mode == BbrMode.ProbeRtt)
        {
            sk.SndCwnd = Math.Min(sk.SndCwnd, CwndMinTarget); // drain the queue, refresh min_rtt
        }
    }
}
