using System.Runtime.InteropServices;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// <c>struct bictcp</c> (net/ipv4/tcp_cubic.c), CUBIC's state in icsk_ca_priv: 60 of its 104 bytes, field for field
/// as the kernel lays it out (bpf_cubic.c's <c>struct bpf_bictcp</c> is identical).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CubicState
{
    /// <summary>cnt: increase cwnd by one after this many packets acked.</summary>
    public uint Cnt;
    /// <summary>last_max_cwnd: W_max, the window before the last reduction.</summary>
    public uint LastMaxCwnd;
    /// <summary>last_cwnd: cwnd at the last bictcp_update that recomputed cnt.</summary>
    public uint LastCwnd;
    /// <summary>last_time: tcp_jiffies32 of that update.</summary>
    public uint LastTime;
    /// <summary>bic_origin_point: the window the cubic curve plateaus at.</summary>
    public uint BicOriginPoint;
    /// <summary>bic_K: time from epoch start to the plateau, in 1/1024 s (BICTCP_HZ).</summary>
    public uint BicK;
    /// <summary>delay_min: the smallest RTT seen, in microseconds.</summary>
    public uint DelayMin;
    /// <summary>epoch_start: tcp_jiffies32 when the current growth epoch began; 0 means none.</summary>
    public uint EpochStart;
    /// <summary>ack_cnt: packets acked since the Reno estimate last grew.</summary>
    public uint AckCnt;
    /// <summary>tcp_cwnd: the window Reno would have (TCP friendliness).</summary>
    public uint TcpCwnd;
    /// <summary>unused: the u16 bictcp_reset clears up to.</summary>
    public ushort Unused;
    /// <summary>sample_cnt: RTT samples taken this round for HyStart's delay detection.</summary>
    public byte SampleCnt;
    /// <summary>found: HyStart found the exit point.</summary>
    public byte Found;
    /// <summary>round_start: tcp_mstamp (µs, truncated) when the round began.</summary>
    public uint RoundStart;
    /// <summary>end_seq: snd_nxt when the round began; the round ends once it is acked.</summary>
    public uint EndSeq;
    /// <summary>last_ack: tcp_mstamp of the last ACK that was part of a train.</summary>
    public uint LastAck;
    /// <summary>curr_rtt: the smallest RTT sample of the current round (µs).</summary>
    public uint CurrRtt;
}
