using System.Runtime.InteropServices;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// <c>struct dctcp</c> (net/ipv4/tcp_dctcp.c), DCTCP's state in icsk_ca_priv: 28 of its 104 bytes, in the kernel's
/// order (bpf_dctcp.c declares the same struct).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DctcpState
{
    /// <summary>old_delivered: tp->delivered when the current observation window began.</summary>
    public uint OldDelivered;
    /// <summary>old_delivered_ce: tp->delivered_ce when the current observation window began.</summary>
    public uint OldDeliveredCe;
    /// <summary>prior_rcv_nxt: rcv_nxt at the last CE-state event, what a delayed ACK of the old state acks.</summary>
    public uint PriorRcvNxt;
    /// <summary>dctcp_alpha: the EWMA of the marked fraction, 0..1024 for 0..1.</summary>
    public uint DctcpAlpha;
    /// <summary>next_seq: the window ends when snd_una reaches this snd_nxt.</summary>
    public uint NextSeq;
    /// <summary>ce_state: 1 if the last data packet received was CE-marked.</summary>
    public uint CeState;
    /// <summary>loss_cwnd: cwnd before the last reduction, for undo.</summary>
    public uint LossCwnd;
}
