using System.Runtime.InteropServices;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Programs.Tcp;

/// <summary>
/// bpf_dctcp (tools/testing/selftests/bpf/progs/bpf_dctcp.c): DCTCP as a struct_ops program with
/// TCP_CONG_NEEDS_ECN, cong_avoid through the tcp_reno_cong_avoid kfunc. Ported from the selftest on its own, with its
/// own <c>struct dctcp</c> and arithmetic, sharing nothing with the built-in <c>dctcp</c> (net/ipv4/tcp_dctcp.c) but
/// the kfuncs, so that comparing the two (BpfCcEquivalenceTests) compares two ports of DCTCP.
/// </summary>
/// <remarks>
/// Left out, being selftest plumbing rather than the algorithm: init's fallback through
/// <c>bpf_setsockopt(TCP_CONGESTION, fallback_cc)</c> (empty by default, so the default path initialises as here) and
/// its sk_storage read-and-delete. The CE state machine's bpf_tcp_send_ack of a pending delayed ACK goes through
/// <see cref="TcpCongKfuncs.TcpSendAck"/>, which the stack provides on receive-side hooks.
/// </remarks>
[StructOps(TcpCongestionOpsType.TypeName, Name = "bpf_dctcp", Flags = (uint)TcpCongFlags.NeedsEcn,
    Description = "DCTCP over reno, the bpf_dctcp.c selftest port (NEEDS_ECN)")]
public sealed class BpfDctcp : TcpCongestionOpsProgram
{
    /// <summary>DCTCP_MAX_ALPHA: alpha 1.0 in units of 1/1024.</summary>
    private const uint DctcpMaxAlpha = 1024;

    /// <summary>dctcp_shift_g: the gain g = 1/2^4 of alpha's moving average.</summary>
    private const int DctcpShiftG = 4;

    /// <summary>dctcp_alpha_on_init: alpha starts at its maximum, so the first ECN reduction halves.</summary>
    private const uint DctcpAlphaOnInit = DctcpMaxAlpha;

    /// <summary>The selftest's <c>struct dctcp</c>, seven u32 in its order, in icsk_ca_priv (inet_csk_ca).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct State
    {
        public uint OldDelivered;
        public uint OldDeliveredCe;
        public uint PriorRcvNxt;
        public uint DctcpAlpha;
        public uint NextSeq;
        public uint CeState;
        public uint LossCwnd;
    }

    private static ref State Ca(ref TcpSock sk) => ref sk.CaPrivAs<State>();

    /// <summary>before() from the selftest's helpers: sequence number a precedes b, modulo 2^32.</summary>
    private static bool Before(uint seq1, uint seq2) => (int)(seq1 - seq2) < 0;

    /// <summary>dctcp_reset: the next observation window runs to the current snd_nxt.</summary>
    private static void Reset(in TcpSock tp, ref State ca)
    {
        ca.NextSeq = tp.SndNxt;
        ca.OldDelivered = tp.Delivered;
        ca.OldDeliveredCe = tp.DeliveredCe;
    }

    /// <summary>dctcp_init (the ECN path): alpha at its initial value, no loss yet, CE state 0, a window from snd_nxt.</summary>
    public override void Init(ref TcpSock sk)
    {
        ref var ca = ref Ca(ref sk);
        ca.PriorRcvNxt = sk.RcvNxt;
        ca.DctcpAlpha = Math.Min(DctcpAlphaOnInit, DctcpMaxAlpha);
        ca.LossCwnd = 0;
        ca.CeState = 0;
        Reset(in sk, ref ca);
    }

    /// <summary>dctcp_ssthresh: remember cwnd for undo, then cwnd − cwnd·alpha/2 (alpha in 1/1024), at least 2.</summary>
    public override uint Ssthresh(ref TcpSock sk)
    {
        ref var ca = ref Ca(ref sk);
        ca.LossCwnd = sk.SndCwnd;
        return Math.Max(sk.SndCwnd - ((sk.SndCwnd * ca.DctcpAlpha) >> 11), 2u);
    }

    /// <summary>
    /// dctcp_update_alpha (in_ack_event): when snd_una passes next_seq, alpha = (1 − g)·alpha + g·F with F the
    /// CE-marked fraction of the packets delivered in the window, then a new window.
    /// </summary>
    public override void InAckEvent(ref TcpSock sk, uint flags)
    {
        ref var ca = ref Ca(ref sk);
        if (Before(sk.SndUna, ca.NextSeq))
        {
            return;
        }
        uint deliveredCe = sk.DeliveredCe - ca.OldDeliveredCe;
        uint alpha = ca.DctcpAlpha;

        // min_not_zero: once alpha >> g is 0 the whole of alpha goes, so a small alpha decays to 0 rather than sticking.
        uint shifted = alpha >> DctcpShiftG;
        alpha -= shifted == 0 ? alpha : Math.Min(alpha, shifted);
        if (deliveredCe != 0)
        {
            uint delivered = sk.Delivered - ca.OldDelivered;
            // g·F in 1/1024: CE << (10 − g) / delivered; the shift comes first to keep the integer division's precision.
            deliveredCe <<= 10 - DctcpShiftG;
            deliveredCe /= Math.Max(1u, delivered);
            alpha = Math.Min(alpha + deliveredCe, DctcpMaxAlpha);
        }
        ca.DctcpAlpha = alpha;
        Reset(in sk, ref ca);
    }

    /// <summary>dctcp_react_to_loss: a real loss halves as Reno does, remembering cwnd for undo.</summary>
    private static void ReactToLoss(ref TcpSock sk)
    {
        Ca(ref sk).LossCwnd = sk.SndCwnd;
        sk.SndSsthresh = Math.Max(sk.SndCwnd >> 1, 2u);
    }

    /// <summary>
    /// dctcp_state: reacts to loss on entering Recovery (the socket still holds the old state). An RTO is handled in
    /// cwnd_event, so each RTT sees one reduction.
    /// </summary>
    public override void SetState(ref TcpSock sk, TcpCaState newState)
    {
        if (newState == TcpCaState.Recovery && sk.IcskCaState != TcpCaState.Recovery)
        {
            ReactToLoss(ref sk);
        }
    }

    /// <summary>dctcp_cwnd_event: CE or non-CE data moves the receiver's CE state; CA_EVENT_LOSS reacts to loss.</summary>
    public override void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
        if (ev is TcpCaEvent.EcnIsCe or TcpCaEvent.EcnNoCe)
        {
            EceAckUpdate(ref sk, ev == TcpCaEvent.EcnIsCe ? 1u : 0u);
        }
        else if (ev == TcpCaEvent.Loss)
        {
            ReactToLoss(ref sk);
        }
    }

    /// <summary>
    /// dctcp_ece_ack_update, the minimal CE state machine (0: last packet not CE, 1: CE). A change forces the next
    /// ACK out at once; a delayed ACK still pending is sent first, for prior_rcv_nxt and with the old state's ECE,
    /// so the sender can tell where one CE run ends.
    /// </summary>
    private static void EceAckUpdate(ref TcpSock sk, uint newCeState)
    {
        ref var ca = ref Ca(ref sk);
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

    /// <summary>dctcp_ece_ack_cwr: our ACKs carry ECE exactly while the CE state is 1 (TCP_ECN_DEMAND_CWR).</summary>
    private static void EceAckCwr(ref TcpSock sk, uint ceState)
    {
        sk.EcnFlags = ceState == 1
            ? (byte)(sk.EcnFlags | TcpEcnFlags.DemandCwr)
            : (byte)(sk.EcnFlags & ~TcpEcnFlags.DemandCwr);
    }

    /// <summary>dctcp_cwnd_undo: the larger of cwnd and the window before the last reduction.</summary>
    public override uint UndoCwnd(ref TcpSock sk) => Math.Max(sk.SndCwnd, Ca(ref sk).LossCwnd);

    /// <summary>The selftest's tcp_reno_cong_avoid, now the kernel's kfunc.</summary>
    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);
}
