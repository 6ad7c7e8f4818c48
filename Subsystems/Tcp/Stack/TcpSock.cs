using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The part of <c>struct tcp_sock</c> (and its inet_connection_sock and sock) that congestion control reads and
/// writes, with the kernel's names and units: cwnd and ssthresh in packets, times in microseconds, the 104-byte
/// <see cref="CaPriv"/> for the algorithm's private state. A blittable struct, so sockets live in an array indexed by
/// socket id and are passed to algorithms by reference.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct TcpSock
{
    /// <summary>TCP_INFINITE_SSTHRESH.</summary>
    public const uint InfiniteSsthresh = 0x7fffffff;

    /// <summary>TCP_INIT_CWND.</summary>
    public const uint InitCwnd = 10;

    public uint SndCwnd;
    public uint SndSsthresh;
    public uint SndCwndCnt;
    public uint SndCwndClamp;
    /// <summary>snd_cwnd_stamp: <see cref="TcpJiffies32"/> when cwnd was last changed or found fully used.</summary>
    public uint SndCwndStamp;
    public uint PriorCwnd;
    public uint PriorSsthresh;
    /// <summary>Smoothed RTT in microseconds, scaled by 8 as the kernel keeps it (srtt_us).</summary>
    public uint SrttUs;
    /// <summary>RTT mean deviation in microseconds, scaled by 4 (mdev_us).</summary>
    public uint MdevUs;
    public uint PacketsOut;
    public uint SackedOut;
    public uint LostOut;
    public uint RetransOut;
    public uint MaxPacketsOut;
    public uint Delivered;
    public uint DeliveredCe;
    /// <summary>lost: packets ever marked lost (tcp_mark_skb_lost), counting a lost retransmission again.</summary>
    public uint Lost;
    public uint SndUna;
    public uint SndNxt;
    /// <summary>rcv_nxt: what we want to receive next (DCTCP remembers it for the ACK of the prior CE state).</summary>
    public uint RcvNxt;
    /// <summary>lsndtime: <see cref="TcpJiffies32"/> at the last data sent (CUBIC shifts its epoch by the idle time).</summary>
    public uint Lsndtime;
    /// <summary>sk_sndbuf in bytes: tcp_sndbuf_expand sizes it from the algorithm's sndbuf_expand (tcp_wmem 16 KiB…4 MiB).</summary>
    public uint SkSndbuf;
    /// <summary>The skb size the last tcp_tso_segs chose, in segments (min_tso_segs sets its floor, sk_gso_max_segs its ceiling).</summary>
    public uint TsoSegs;
    public uint MssCache;
    /// <summary>
    /// app_limited: 0, or the <see cref="Delivered"/> count after which delivery is no longer limited by the
    /// application; segments sent meanwhile give app-limited rate samples (tcp_rate.c). BBR sets it in PROBE_RTT.
    /// </summary>
    public uint AppLimited;
    /// <summary>The current time in microseconds as of the last ACK (tcp_mstamp).</summary>
    public ulong TcpMstamp;
    /// <summary>tcp_clock_cache: the same instant as <see cref="TcpMstamp"/>, in nanoseconds.</summary>
    public ulong TcpClockCache;
    /// <summary>
    /// tcp_wstamp_ns: the earliest departure time of the next skb (EDT), in nanoseconds; every transmission moves it to
    /// max(itself, now), and a paced one on by its payload length / pacing rate (tcp_update_skb_after_send).
    /// </summary>
    public ulong TcpWstampNs;
    /// <summary>delivered_mstamp: <see cref="TcpMstamp"/> when <see cref="Delivered"/> last grew (tcp_rate_gen).</summary>
    public ulong DeliveredMstamp;
    /// <summary>rtt_min: windowed minimum RTT in µs over sysctl_tcp_min_rtt_wlen (300 s), timed in jiffies.</summary>
    public Minmax RttMin;
    /// <summary>sk_pacing_rate in bytes per second.</summary>
    public ulong SkPacingRate;
    /// <summary>sk_pacing_status: 0 none, 1 needed (the algorithm asks for pacing), 2 fq.</summary>
    public uint SkPacingStatus;
    public byte EcnFlags;
    public TcpCaState IcskCaState;
    /// <summary>icsk_ack.pending bits (ICSK_ACK_NOW etc.).</summary>
    public byte IcskAckPending;
    public bool IsCwndLimited;
    /// <summary>
    /// The socket's stream of random numbers for <see cref="GetRandomU32Below"/>, a SplitMix64 state the stack seeds
    /// from the scenario seed and the connection id, so runs are reproducible and flows are not in lockstep.
    /// </summary>
    public ulong PrandomState;


    public CaPriv IcskCaPriv;

    // Added after icsk_ca_priv so the offsets of everything above stay as they were.

    /// <summary>sk_max_pacing_rate in bytes per second (SO_MAX_PACING_RATE; ~0UL, unlimited, unless set).</summary>
    public ulong SkMaxPacingRate;

    /// <summary>
    /// bpfsim's own: which socket this is (the connection id + 1 for a sending socket, its negation for the receiving
    /// one), so BPF helpers can key per-socket storage and reach the stack (not in the kernel BTF).
    /// </summary>
    public int SocketId;

    /// <summary>tp->bpf_chg_cc_inprogress: a bpf_setsockopt(TCP_CONGESTION) is under way on this socket.</summary>
    public byte BpfChgCcInProgress;

    /// <summary>
    /// bpfsim's own: the simulated kernel's CONFIG_HZ, which the stack sets from <see cref="TcpStackOptions.Hz"/>
    /// (0, a socket built without a stack, means <see cref="Jiffies.DefaultHz"/>). It fills the padding after
    /// <see cref="BpfChgCcInProgress"/>, so the struct's size is unchanged; use <see cref="Hz"/>.
    /// </summary>
    public ushort ConfigHz;

    /// <summary>CONFIG_HZ of the kernel this socket lives in: jiffies per second (<see cref="ConfigHz"/>).</summary>
    public readonly uint Hz => ConfigHz == 0 ? Jiffies.DefaultHz : ConfigHz;

    /// <summary>
    /// tcp_jiffies32 at <see cref="Hz"/>, derived from <see cref="TcpMstamp"/> so the stack has one clock: the kernel
    /// reads the global jiffies, which advance once every 1/HZ s (every 4 ms at HZ 250).
    /// </summary>
    public readonly uint TcpJiffies32 => (uint)Jiffies.JiffiesAtUsecs(TcpMstamp, Hz);

    /// <summary>tcp_min_rtt: the windowed minimum RTT in µs, ~0U before the first sample.</summary>
    public readonly uint MinRttUs => RttMin.Get();

    /// <summary>In slow start: snd_cwnd below snd_ssthresh (tcp_in_slow_start).</summary>
    public readonly bool InSlowStart => SndCwnd < SndSsthresh;

    /// <summary>Packets in flight: packets_out − (sacked_out + lost_out) + retrans_out (tcp_packets_in_flight).</summary>
    public readonly uint PacketsInFlight => PacketsOut - (SackedOut + LostOut) + RetransOut;

    /// <summary>
    /// tcp_is_cwnd_limited (include/net/tcp.h, 6.12): limited by cwnd, or in slow start with cwnd below twice the
    /// largest flight recently sent.
    /// </summary>
    public readonly bool CwndLimited => IsCwndLimited || (InSlowStart && SndCwnd < 2 * MaxPacketsOut);

    /// <summary>
    /// get_random_u32_below (include/linux/random.h): a number uniform in [0, <paramref name="ceil"/>) by the
    /// multiply-shift reduction of a random u32. The kernel draws from its global CSPRNG; here each socket draws
    /// from its own deterministic <see cref="PrandomState"/>.
    /// </summary>
    /// <returns>0 .. ceil − 1 (0 when <paramref name="ceil"/> is 0).</returns>
    public uint GetRandomU32Below(uint ceil)
    {
        ulong z = PrandomState += 0x9E3779B97F4A7C15UL; // SplitMix64 step
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        uint r = (uint)((z ^ (z >> 31)) >> 32);
        return (uint)(((ulong)r * ceil) >> 32);
    }

    /// <summary>The private area as a typed struct (the kernel's inet_csk_ca()).</summary>
    [UnscopedRef]
    public ref T CaPrivAs<T>() where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() > CaPriv.Size)
        {
            throw new ArgumentException($"{typeof(T).Name} is larger than icsk_ca_priv ({CaPriv.Size} bytes)");
        }
        return ref Unsafe.As<CaPriv, T>(ref IcskCaPriv);
    }
}
