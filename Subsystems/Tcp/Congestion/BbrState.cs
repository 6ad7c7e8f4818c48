using System.Runtime.InteropServices;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// <c>struct bbr</c> (net/ipv4/tcp_bbr.c), BBR's state in icsk_ca_priv: all 104 bytes of it, field for field in the
/// kernel's order with the same padding before the u64s. The kernel's three u32 bitfield words are u32 fields here
/// with the same widths, read and written through properties that mask and shift, so a write truncates to the
/// field's width as the C assignment does.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BbrState
{
    /// <summary>min_rtt_us: min RTT in the bbr_min_rtt_win_sec window; ~0U before any sample.</summary>
    public uint MinRttUs;
    /// <summary>min_rtt_stamp: tcp_jiffies32 of <see cref="MinRttUs"/>.</summary>
    public uint MinRttStamp;
    /// <summary>probe_rtt_done_stamp: jiffies at which PROBE_RTT may end; 0 until inflight is down to 4.</summary>
    public uint ProbeRttDoneStamp;
    /// <summary>bw: windowed max of delivery rate samples, in packets/µs &lt;&lt; BW_SCALE, timed in rounds.</summary>
    public Minmax Bw;
    /// <summary>rtt_cnt: packet-timed rounds elapsed.</summary>
    public uint RttCnt;
    /// <summary>next_rtt_delivered: tp->delivered at the end of the current round.</summary>
    public uint NextRttDelivered;
    /// <summary>cycle_mstamp: delivered_mstamp when the current PROBE_BW gain phase began.</summary>
    public ulong CycleMstamp;
    /// <summary>mode:3, prev_ca_state:3, packet_conservation:1, round_start:1, idle_restart:1, probe_rtt_round_done:1, unused:13, lt_is_sampling:1, lt_rtt_cnt:7, lt_use_bw:1.</summary>
    public uint Bits1;
    /// <summary>lt_bw: long-term (policed) delivery rate, packets/µs &lt;&lt; BW_SCALE.</summary>
    public uint LtBw;
    /// <summary>lt_last_delivered: tp->delivered at the start of the long-term interval.</summary>
    public uint LtLastDelivered;
    /// <summary>lt_last_stamp: delivered_mstamp in ms at the start of the long-term interval.</summary>
    public uint LtLastStamp;
    /// <summary>lt_last_lost: tp->lost at the start of the long-term interval.</summary>
    public uint LtLastLost;
    /// <summary>pacing_gain:10, cwnd_gain:10, full_bw_reached:1, full_bw_cnt:2, cycle_idx:3, has_seen_rtt:1, unused_b:5.</summary>
    public uint Bits2;
    /// <summary>prior_cwnd: cwnd before loss recovery or PROBE_RTT, to restore afterwards.</summary>
    public uint PriorCwnd;
    /// <summary>full_bw: the bandwidth STARTUP last grew to by 25 %, to tell when the pipe is full.</summary>
    public uint FullBw;
    /// <summary>ack_epoch_mstamp: start of the ACK-aggregation sampling epoch.</summary>
    public ulong AckEpochMstamp;
    /// <summary>extra_acked[0]: max excess data ACKed in one of the two aggregation windows.</summary>
    public ushort ExtraAcked0;
    /// <summary>extra_acked[1]: the other window.</summary>
    public ushort ExtraAcked1;
    /// <summary>ack_epoch_acked:20, extra_acked_win_rtts:5, extra_acked_win_idx:1, unused_c:6.</summary>
    public uint Bits3;

    // Bits1
    public BbrMode Mode { readonly get => (BbrMode)Get(Bits1, 0, 3); set => Set(ref Bits1, 0, 3, (uint)value); }
    public TcpCaState PrevCaState { readonly get => (TcpCaState)Get(Bits1, 3, 3); set => Set(ref Bits1, 3, 3, (uint)value); }
    public bool PacketConservation { readonly get => Get(Bits1, 6, 1) != 0; set => Set(ref Bits1, 6, 1, value ? 1u : 0); }
    public bool RoundStart { readonly get => Get(Bits1, 7, 1) != 0; set => Set(ref Bits1, 7, 1, value ? 1u : 0); }
    public bool IdleRestart { readonly get => Get(Bits1, 8, 1) != 0; set => Set(ref Bits1, 8, 1, value ? 1u : 0); }
    public bool ProbeRttRoundDone { readonly get => Get(Bits1, 9, 1) != 0; set => Set(ref Bits1, 9, 1, value ? 1u : 0); }
    public bool LtIsSampling { readonly get => Get(Bits1, 23, 1) != 0; set => Set(ref Bits1, 23, 1, value ? 1u : 0); }
    public uint LtRttCnt { readonly get => Get(Bits1, 24, 7); set => Set(ref Bits1, 24, 7, value); }
    public bool LtUseBw { readonly get => Get(Bits1, 31, 1) != 0; set => Set(ref Bits1, 31, 1, value ? 1u : 0); }

    // Bits2
    public uint PacingGain { readonly get => Get(Bits2, 0, 10); set => Set(ref Bits2, 0, 10, value); }
    public uint CwndGain { readonly get => Get(Bits2, 10, 10); set => Set(ref Bits2, 10, 10, value); }
    public bool FullBwReached { readonly get => Get(Bits2, 20, 1) != 0; set => Set(ref Bits2, 20, 1, value ? 1u : 0); }
    public uint FullBwCnt { readonly get => Get(Bits2, 21, 2); set => Set(ref Bits2, 21, 2, value); }
    public uint CycleIdx { readonly get => Get(Bits2, 23, 3); set => Set(ref Bits2, 23, 3, value); }
    public bool HasSeenRtt { readonly get => Get(Bits2, 26, 1) != 0; set => Set(ref Bits2, 26, 1, value ? 1u : 0); }

    // Bits3
    public uint AckEpochAcked { readonly get => Get(Bits3, 0, 20); set => Set(ref Bits3, 0, 20, value); }
    public uint ExtraAckedWinRtts { readonly get => Get(Bits3, 20, 5); set => Set(ref Bits3, 20, 5, value); }
    public uint ExtraAckedWinIdx { readonly get => Get(Bits3, 25, 1); set => Set(ref Bits3, 25, 1, value); }

    /// <summary>extra_acked[i].</summary>
    public readonly ushort ExtraAcked(uint i) => i == 0 ? ExtraAcked0 : ExtraAcked1;

    /// <summary>extra_acked[i] = value.</summary>
    public void SetExtraAcked(uint i, ushort value)
    {
        if (i == 0)
        {
            ExtraAcked0 = value;
        }
        else
        {
            ExtraAcked1 = value;
        }
    }

    private static uint Get(uint word, int shift, int width) => (word >> shift) & ((1u << width) - 1);

    private static void Set(ref uint word, int shift, int width, uint value)
    {
        uint mask = ((1u << width) - 1) << shift;
        word = (word & ~mask) | ((value << shift) & mask);
    }
}
