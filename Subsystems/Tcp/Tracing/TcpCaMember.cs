namespace BpfSim.Tcp.Tracing;

/// <summary>The tcp_congestion_ops members (include/net/tcp.h) a traced hook call names, in the struct's order.</summary>
public enum TcpCaMember : byte
{
    /// <summary><c>ssthresh(sk)</c>: returns the new slow-start threshold.</summary>
    Ssthresh = 0,
    /// <summary><c>cong_avoid(sk, ack, acked)</c>.</summary>
    CongAvoid = 1,
    /// <summary><c>set_state(sk, new_state)</c>, called before ca_state changes.</summary>
    SetState = 2,
    /// <summary><c>cwnd_event(sk, ev)</c>.</summary>
    CwndEvent = 3,
    /// <summary><c>in_ack_event(sk, flags)</c>.</summary>
    InAckEvent = 4,
    /// <summary><c>pkts_acked(sk, sample)</c>: sample.pkts_acked, rtt_us, in_flight.</summary>
    PktsAcked = 5,
    /// <summary><c>min_tso_segs(sk)</c>.</summary>
    MinTsoSegs = 6,
    /// <summary><c>cong_control(sk, ack, flag, rs)</c>: rs.delivered as the third argument.</summary>
    CongControl = 7,
    /// <summary><c>undo_cwnd(sk)</c>: returns the cwnd to restore.</summary>
    UndoCwnd = 8,
    /// <summary><c>sndbuf_expand(sk)</c>.</summary>
    SndbufExpand = 9,
    /// <summary><c>init(sk)</c>.</summary>
    Init = 10,
    /// <summary><c>release(sk)</c>.</summary>
    Release = 11,
}
