using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    /// <summary>When cwnd last changed (tcp_jiffies32 in the kernel; microseconds here).</summary>
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
    public uint SndUna;
    public uint SndNxt;
    /// <summary>rcv_nxt: what we want to receive next (DCTCP remembers it for the ACK of the prior CE state).</summary>
    public uint RcvNxt;
    /// <summary>lsndtime: <see cref="TcpJiffies32"/> at the last data sent (CUBIC shifts its epoch by the idle time).</summary>
    public uint Lsndtime;
    public uint MssCache;
    public uint AppLimited;
    /// <summary>The current time in microseconds as of the last ACK (tcp_mstamp).</summary>
    public ulong TcpMstamp;
    /// <summary>sk_pacing_rate in bytes per second.</summary>
    public ulong SkPacingRate;
    /// <summary>sk_pacing_status: 0 none, 1 needed (the algorithm asks for pacing), 2 fq.</summary>
    public uint SkPacingStatus;
    public byte EcnFlags;
    public TcpCaState IcskCaState;
    /// <summary>icsk_ack.pending bits (ICSK_ACK_NOW etc.).</summary>
    public byte IcskAckPending;
    public bool IsCwndLimited;
    public CaPriv IcskCaPriv;

    /// <summary>
    /// tcp_jiffies32 with HZ = <see cref="TcpTime.Hz"/>, derived from <see cref="TcpMstamp"/> so the stack has one
    /// clock: the kernel reads the global jiffies, which with HZ=1000 advances with tcp_mstamp's milliseconds.
    /// </summary>
    public readonly uint TcpJiffies32 => (uint)(TcpMstamp / TcpTime.UsecPerJiffy);

    /// <summary>In slow start: snd_cwnd below snd_ssthresh (tcp_in_slow_start).</summary>
    public readonly bool InSlowStart => SndCwnd < SndSsthresh;

    /// <summary>Packets in flight: packets_out − (sacked_out + lost_out) + retrans_out (tcp_packets_in_flight).</summary>
    public readonly uint PacketsInFlight => PacketsOut - (SackedOut + LostOut) + RetransOut;

    /// <summary>
    /// tcp_is_cwnd_limited (include/net/tcp.h, 6.12): limited by cwnd, or in slow start with cwnd below twice the
    /// largest flight recently sent.
    /// </summary>
    public readonly bool CwndLimited => IsCwndLimited || (InSlowStart && SndCwnd < 2 * MaxPacketsOut);

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
