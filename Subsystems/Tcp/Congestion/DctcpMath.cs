using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// DCTCP's functions as net/ipv4/tcp_dctcp.c and tcp_dctcp.h write them, for <see cref="Dctcp"/>. The bpf_dctcp
/// consumer does not call them: it is a separate port of the selftest's copy (bpf_dctcp.c), so that tests comparing
/// the two compare two implementations.
/// </summary>
internal static class DctcpMath
{
    /// <summary>DCTCP_MAX_ALPHA: alpha = 1.0.</summary>
    public const uint MaxAlpha = 1024;

    /// <summary>dctcp_shift_g: the EWMA gain g = 1/2^4 (module parameter, 0..10).</summary>
    public const int ShiftG = 4;

    /// <summary>dctcp_alpha_on_init: alpha starts at 1.0, so the first reduction halves the window.</summary>
    public const uint AlphaOnInit = MaxAlpha;

    /// <summary>The private area as DCTCP's state (inet_csk_ca).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref DctcpState Ca(ref TcpSock sk) => ref sk.CaPrivAs<DctcpState>();

    /// <summary>dctcp_reset: a new observation window from snd_nxt, counters from now.</summary>
    public static void ResetWindow(in TcpSock tp, ref DctcpState ca)
    {
        ca.NextSeq = tp.SndNxt;
        ca.OldDelivered = tp.Delivered;
        ca.OldDeliveredCe = tp.DeliveredCe;
    }

    /// <summary>The ECN-negotiated branch of dctcp_init: alpha, loss_cwnd and CE state set, window started.</summary>
    public static void InitState(ref TcpSock sk)
    {
        ref var ca = ref Ca(ref sk);
        ca.PriorRcvNxt = sk.RcvNxt;
        ca.DctcpAlpha = Math.Min(AlphaOnInit, MaxAlpha);
        ca.LossCwnd = 0;
        ca.CeState = 0;
        ResetWindow(in sk, ref ca);
    }

    /// <summary>dctcp_ssthresh: remember cwnd for undo and cut by alpha/2: cwnd − cwnd·alpha/2048, at least 2.</summary>
    public static uint Ssthresh(ref TcpSock sk)
    {
        ref var ca = ref Ca(ref sk);
        ca.LossCwnd = sk.SndCwnd;
        return Math.Max(sk.SndCwnd - ((sk.SndCwnd * ca.DctcpAlpha) >> 11), 2u);
    }

    /// <summary>
    /// dctcp_update_alpha (in_ack_event): once per window (snd_una no longer before next_seq),
    /// alpha ← alpha − alpha/16 + (CE/delivered)/16, in 1/1024, capped at 1024.
    /// </summary>
    public static void UpdateAlpha(ref TcpSock sk, uint flags)
    {
        ref var ca = ref Ca(ref sk);
        if (TcpTime.Before(sk.SndUna, ca.NextSeq))
        {
            return;
        }

        uint deliveredCe = sk.DeliveredCe - ca.OldDeliveredCe;
        uint alpha = ca.DctcpAlpha;

        // alpha = (1 − g)·alpha + g·F. min_not_zero lets a small alpha (alpha >> g == 0) decay to 0.
        uint decay = alpha >> ShiftG;
        alpha -= decay != 0 ? Math.Min(alpha, decay) : alpha;
        if (deliveredCe != 0)
        {
            uint delivered = sk.Delivered - ca.OldDelivered;
            deliveredCe <<= 10 - ShiftG;
            deliveredCe /= Math.Max(1u, delivered);
            alpha = Math.Min(alpha + deliveredCe, MaxAlpha);
        }
        ca.DctcpAlpha = alpha;
        ResetWindow(in sk, ref ca);
    }

    /// <summary>dctcp_react_to_loss: a loss halves like Reno (ssthresh = cwnd/2, at least 2), remembering cwnd.</summary>
    public static void ReactToLoss(ref TcpSock sk)
    {
        Ca(ref sk).LossCwnd = sk.SndCwnd;
        sk.SndSsthresh = Math.Max(sk.SndCwnd >> 1, 2u);
    }

    /// <summary>
    /// dctcp_state: entering Recovery (not re-entering) reacts to the loss; an RTO is handled in cwnd_event so that
    /// only one reduction happens per RTT.
    /// </summary>
    public static void SetState(ref TcpSock sk, TcpCaState newState)
    {
        if (newState == TcpCaState.Recovery && newState != sk.IcskCaState)
        {
            ReactToLoss(ref sk);
        }
    }

    /// <summary>dctcp_cwnd_event: CE transitions drive the receiver's ECE state; a loss timeout reacts to loss.</summary>
    public static void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
        switch (ev)
        {
            case TcpCaEvent.EcnIsCe:
            case TcpCaEvent.EcnNoCe:
                EceAckUpdate(ref sk, ev);
                break;
            case TcpCaEvent.Loss:
                ReactToLoss(ref sk);
                break;
        }
    }

    /// <summary>dctcp_cwnd_undo: back to the window before the reduction.</summary>
    public static uint UndoCwnd(ref TcpSock sk) => Math.Max(sk.SndCwnd, Ca(ref sk).LossCwnd);

    /// <summary>sizeof(struct tcp_dctcp_info): u16 enabled, u16 ce_state, u32 alpha, ab_ecn, ab_tot.</summary>
    public const int InfoSize = 16;

    /// <summary>
    /// dctcp_get_info: struct tcp_dctcp_info for INET_DIAG_DCTCPINFO (or VEGASINFO): enabled, the receiver's CE
    /// state, alpha, and the bytes acknowledged (all and CE-marked) in the current observation window.
    /// </summary>
    public static ulong GetInfo(ref TcpSock sk, uint ext, ref int attr, Span<byte> info) => Info(ref sk, ext, ref attr, info, enabled: true);

    /// <summary>dctcp_get_info on a socket fallen back to dctcp_reno: the struct, zeroed ("not enabled").</summary>
    public static ulong RenoFallbackGetInfo(ref TcpSock sk, uint ext, ref int attr, Span<byte> info) => Info(ref sk, ext, ref attr, info, enabled: false);

    private static ulong Info(ref TcpSock sk, uint ext, ref int attr, Span<byte> info, bool enabled)
    {
        if ((ext & (1u << (TcpCcInfo.InetDiagDctcpInfo - 1))) == 0 && (ext & (1u << (TcpCcInfo.InetDiagVegasInfo - 1))) == 0)
        {
            return 0;
        }
        info[..InfoSize].Clear();
        if (enabled)
        {
            ref var ca = ref Ca(ref sk);
            BinaryPrimitives.WriteUInt16LittleEndian(info, 1);
            BinaryPrimitives.WriteUInt16LittleEndian(info[2..], (ushort)ca.CeState);
            BinaryPrimitives.WriteUInt32LittleEndian(info[4..], ca.DctcpAlpha);
            BinaryPrimitives.WriteUInt32LittleEndian(info[8..], unchecked(sk.MssCache * (sk.DeliveredCe - ca.OldDeliveredCe)));
            BinaryPrimitives.WriteUInt32LittleEndian(info[12..], unchecked(sk.MssCache * (sk.Delivered - ca.OldDelivered)));
        }
        attr = TcpCcInfo.InetDiagDctcpInfo;
        return InfoSize;
    }

    /// <summary>
    /// dctcp_ece_ack_update (tcp_dctcp.h), the receiver's CE state machine: state 1 after a CE packet, 0 after a
    /// non-CE one. On a change the next ACK goes out at once (ICSK_ACK_NOW) so the sender sees each CE run exactly,
    /// and TCP_ECN_DEMAND_CWR (ECE on ACKs) follows the state.
    /// </summary>
    /// <remarks>
    /// When a delayed ACK is pending (ICSK_ACK_TIMER) at a change, it is sent first, for <c>prior_rcv_nxt</c> and
    /// with the old state's ECE (__tcp_send_ack; bpf_tcp_send_ack in bpf_dctcp), so the sender attributes every
    /// segment to the right CE run.
    /// </remarks>
    public static void EceAckUpdate(ref TcpSock sk, TcpCaEvent evt)
    {
        ref var ca = ref Ca(ref sk);
        uint newCeState = evt == TcpCaEvent.EcnIsCe ? 1u : 0u;
        if (ca.CeState != newCeState)
        {
            if ((sk.IcskAckPending & IcskAck.Timer) != 0)
            {
                EceAckCwr(ref sk, ca.CeState);
                TcpCongKfuncs.TcpSendAck(ref sk, ca.PriorRcvNxt);
            }
            sk.IcskAckPending |= IcskAck.Now;
        }
        ca.PriorRcvNxt = sk.RcvNxt;
        ca.CeState = newCeState;
        EceAckCwr(ref sk, newCeState);
    }

    /// <summary>dctcp_ece_ack_cwr: ECE on our ACKs while the CE state is 1.</summary>
    private static void EceAckCwr(ref TcpSock sk, uint ceState)
    {
        if (ceState == 1)
        {
            sk.EcnFlags |= TcpEcnFlags.DemandCwr;
        }
        else
        {
            sk.EcnFlags &= unchecked((byte)~TcpEcnFlags.DemandCwr);
        }
    }
}
