using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// The helpers BPF congestion controls call as kfuncs (net/ipv4/tcp_cong.c: tcp_slow_start, tcp_cong_avoid_ai,
/// tcp_reno_cong_avoid, tcp_reno_ssthresh, tcp_reno_undo_cwnd), with the kernel's arithmetic. Built-in algorithms
/// call the same functions.
/// </summary>
public static class TcpCongKfuncs
{
    /// <summary>
    /// tcp_slow_start: grow cwnd by the packets acked, up to ssthresh (and the clamp).
    /// </summary>
    /// <returns>The acked packets left over once ssthresh was reached, for congestion avoidance.</returns>
    public static uint SlowStart(ref TcpSock tp, uint acked)
    {
        uint cwnd = Math.Min(tp.SndCwnd + acked, tp.SndSsthresh);
        acked -= cwnd - tp.SndCwnd;
        tp.SndCwnd = Math.Min(cwnd, tp.SndCwndClamp);
        return acked;
    }

    /// <summary>tcp_cong_avoid_ai: additive increase of one packet per <paramref name="w"/> packets acked.</summary>
    public static void CongAvoidAi(ref TcpSock tp, uint w, uint acked)
    {
        // Credits accumulated at a higher w are applied gently now.
        if (tp.SndCwndCnt >= w)
        {
            tp.SndCwndCnt = 0;
            tp.SndCwnd++;
        }
        tp.SndCwndCnt += acked;
        if (tp.SndCwndCnt >= w)
        {
            uint delta = tp.SndCwndCnt / w;
            tp.SndCwndCnt -= delta * w;
            tp.SndCwnd += delta;
        }
        tp.SndCwnd = Math.Min(tp.SndCwnd, tp.SndCwndClamp);
    }

    /// <summary>tcp_reno_cong_avoid: slow start below ssthresh, then one packet per RTT, only while cwnd-limited.</summary>
    public static void RenoCongAvoid(ref TcpSock tp, uint ack, uint acked)
    {
        if (!tp.CwndLimited)
        {
            return;
        }
        if (tp.InSlowStart)
        {
            acked = SlowStart(ref tp, acked);
            if (acked == 0)
            {
                return;
            }
        }
        CongAvoidAi(ref tp, tp.SndCwnd, acked);
    }

    /// <summary>tcp_reno_ssthresh: half the window, at least 2.</summary>
    public static uint RenoSsthresh(ref TcpSock tp) => Math.Max(tp.SndCwnd >> 1, 2u);

    /// <summary>tcp_reno_undo_cwnd: back to the window before the reduction.</summary>
    public static uint RenoUndoCwnd(ref TcpSock tp) => Math.Max(tp.SndCwnd, tp.PriorCwnd);

    /// <summary>
    /// bpf_tcp_send_ack (net/core/filter.c) / __tcp_send_ack: send an ACK of <paramref name="rcvNxt"/> from
    /// <paramref name="tp"/> now, with its current ECE state. Only a socket's receive-side hooks may call it (DCTCP
    /// acknowledges the data before a CE change with the old state); the stack provides the output path for the
    /// duration of those calls.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called outside a receive-side hook.</exception>
    public static void TcpSendAck(ref TcpSock tp, uint rcvNxt) =>
        (AckOutput ?? throw new InvalidOperationException("tcp_send_ack outside a receive-side congestion-control hook"))(ref tp, rcvNxt);

    /// <summary>The output path <see cref="TcpSendAck"/> uses while a receive-side hook runs on this thread.</summary>
    [ThreadStatic]
    internal static SendAckFn? AckOutput;
}

/// <summary>An ACK of rcv_nxt from a socket, sent now.</summary>
internal delegate void SendAckFn(ref TcpSock tp, uint rcvNxt);
