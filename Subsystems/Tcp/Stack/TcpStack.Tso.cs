using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// TSO/GSO sizing on the send path (net/ipv4/tcp_output.c, tcp.c): how many segments one skb carries
/// (tcp_tso_segs → tcp_tso_autosize), how the write queue is cut into skbs (tcp_xmit_size_goal, tcp_grow_skb), and
/// when an unfinished window is held back for a bigger skb (tcp_tso_should_defer). The segments of one skb leave
/// together: the sender's access link, the host's device, serialises them back to back. The scoreboard stays per
/// segment, as if every skb had been fragmented at MSS boundaries (which loss and SACK processing do anyway).
/// </summary>
public sealed partial class TcpStack
{
    /// <summary>MAX_TCP_HEADER on x86-64 (128 + MAX_HEADER, cache aligned).</summary>
    private const uint MaxTcpHeader = 320;

    /// <summary>sk_gso_max_size: sk_dst_gso_max_size gives the device's 64 KiB (GSO_LEGACY_MAX_SIZE) less MAX_TCP_HEADER + 1.</summary>
    internal const uint GsoMaxSize = 65536 - (MaxTcpHeader + 1);

    /// <summary>sk_gso_max_segs: the device's gso_max_segs, GSO_MAX_SEGS unless a driver lowers it.</summary>
    internal const uint GsoMaxSegs = 65535;

    /// <summary>net.ipv4.tcp_min_tso_segs: the floor of an skb's size when the algorithm has no min_tso_segs.</summary>
    internal const uint SysctlMinTsoSegs = 2;

    /// <summary>net.ipv4.tcp_tso_rtt_log: the RTT allowance halves for every 2^9 µs of min_rtt.</summary>
    private const int TsoRttLog = 9;

    /// <summary>net.ipv4.tcp_tso_win_divisor: a third of the window free is worth sending at once.</summary>
    private const uint TsoWinDivisor = 3;

    /// <summary>sk_pacing_shift: the skb holds about 2^-10 s (1 ms) of data at the pacing rate.</summary>
    internal const int SkPacingShift = 10;

    private uint SkGsoMaxSegs => _options.Tso ? GsoMaxSegs : 1;

    /// <summary>
    /// tcp_tso_autosize (net/ipv4/tcp_output.c): the bytes sent in 2^-sk_pacing_shift s at sk_pacing_rate, plus an
    /// allowance of sk_gso_max_size halved for every 2^tcp_tso_rtt_log µs of min_rtt (nothing from 16 ms up), at most
    /// sk_gso_max_size; in segments, at least <paramref name="minTsoSegs"/>.
    /// </summary>
    internal static uint TsoAutosize(ulong pacingRate, uint minRttUs, uint mssNow, uint minTsoSegs)
    {
        ulong bytes = pacingRate >> SkPacingShift;
        uint r = minRttUs >> TsoRttLog;
        if (r < 32) // BITS_PER_TYPE(sk->sk_gso_max_size)
        {
            bytes += GsoMaxSize >> (int)r;
        }
        bytes = Math.Min(bytes, GsoMaxSize);
        return Math.Max((uint)bytes / mssNow, minTsoSegs); // bytes ≤ GSO_MAX_SIZE: a 32-bit division
    }

    /// <summary>
    /// tcp_tso_segs: the algorithm's min_tso_segs (BBR: 1 below 1.2 Mbit/s, else 2) or the sysctl, autosized, at
    /// most sk_gso_max_segs. Remembered in <see cref="TcpSock.TsoSegs"/>.
    /// </summary>
    private uint TsoSegs(TcpConnection conn)
    {
        ref var sk = ref _socks[conn.Id];
        uint minTso = CaU32Optional(conn.Ops.MinTsoSegs, ref sk, TcpCaMember.MinTsoSegs) ?? SysctlMinTsoSegs;
        uint segs = Math.Min(TsoAutosize(sk.SkPacingRate, sk.MinRttUs, sk.MssCache, minTso), SkGsoMaxSegs);
        sk.TsoSegs = segs;
        return segs;
    }

    /// <summary>
    /// tcp_xmit_size_goal (net/ipv4/tcp.c): tcp_sendmsg fills write-queue skbs up to sk_gso_max_size (the receive
    /// window, not modelled, would bound it by half), in whole segments, at most sk_gso_max_segs: 45 of 1448 bytes.
    /// </summary>
    private uint SizeGoalSegs(TcpConnection conn) => Math.Max(Math.Min(GsoMaxSize / (uint)conn.Mss, SkGsoMaxSegs), 1);

    /// <summary>
    /// One past the last segment the write queue holds: what the application has written, as far as sk_sndbuf lets
    /// it queue (<see cref="SndbufHasRoom"/>).
    /// </summary>
    private ulong WriteQueueEnd(TcpConnection conn) =>
        conn.Stopping ? conn.SndNxt : (ulong)Math.Max(Math.Min(conn.WrittenSegments, (long)conn.SndUna + SndbufSegments(conn)), (long)conn.SndNxt);

    /// <summary>
    /// The skb at the send head, in segments: tcp_sendmsg fills write-queue skbs to the size goal, appending to the
    /// unsent tail skb and starting a new one when everything written was already sent, so they are cut at multiples
    /// of the size goal from where the current run of writes began (the remainder of one already split by
    /// tso_fragment is what is left before the next cut); tcp_grow_skb pulls later data into it up to
    /// <paramref name="quota"/> segments. At most what is queued.
    /// </summary>
    private uint HeadSkbSegs(TcpConnection conn, ulong seg, ulong queueEnd, uint quota)
    {
        uint goal = SizeGoalSegs(conn);
        ulong run = seg - conn.SkbCutBase;
        // Once per skb sent: a 32-bit division while the run of writes is under 2^32 segments (always, in practice).
        ulong cuts = run <= uint.MaxValue ? (uint)run / goal : run / goal;
        ulong cut = conn.SkbCutBase + (cuts + 1) * goal;
        ulong segs = Math.Max(cut - seg, quota);
        return (uint)Math.Min(segs, queueEnd - seg);
    }

    /// <summary>
    /// tcp_tso_should_defer (net/ipv4/tcp_output.c), John Heffner's "TSO Nagle": hold back an skb of several segments
    /// that the free window would cut short, hoping an ACK due shortly frees room for a full one. Not in Recovery or
    /// Loss; not when the last departure was over 1 ms ago; never when a full tcp_tso_segs skb fits, when a middle skb
    /// fits whole, when a third of the window is free (tcp_tso_win_divisor), with nothing in flight, when the next
    /// ACK is due later than min(srtt/2, 1 ms), nor for the skb carrying FIN. The receive window is taken as large.
    /// </summary>
    /// <param name="skbSegs">The send-head skb's segments (<see cref="HeadSkbSegs"/>), more than one.</param>
    /// <param name="isCwndLimited">Set when the deferral is for want of congestion window.</param>
    private bool TsoShouldDefer(TcpConnection conn, ulong seg, uint skbSegs, ulong queueEnd, uint maxSegs, ref bool isCwndLimited)
    {
        ref var sk = ref _socks[conn.Id];
        if (sk.IcskCaState >= TcpCaState.Recovery)
        {
            return false;
        }
        // Only if the last write was recent (tcp_wstamp_ns may be ahead of now under EDT).
        if ((long)(sk.TcpClockCache - sk.TcpWstampNs) - 1_000_000L > 0)
        {
            return false;
        }
        uint mss = sk.MssCache;
        ulong congWin = (ulong)(sk.SndCwnd - sk.PacketsInFlight) * mss;
        ulong limit = congWin; // min(send_win, cong_win): the receive window is not modelled
        if (limit >= (ulong)maxSegs * mss)
        {
            return false;
        }
        ulong skbLen = EndSeqOf(conn, seg + skbSegs - 1) - SeqOf(conn, seg);
        bool isTail = seg + skbSegs >= queueEnd;
        if (!isTail && limit >= skbLen)
        {
            return false;
        }
        ulong chunk = (ulong)sk.SndCwnd * mss / TsoWinDivisor;
        if (limit >= chunk)
        {
            return false;
        }
        if (sk.PacketsOut == 0)
        {
            return false; // no rtx queue head
        }
        // When is the ACK of the oldest outstanding skb expected, and is that soon enough to wait for?
        long srttNs = 125L * sk.SrttUs; // (NSEC_PER_USEC >> 3) × srtt_us
        long howFar = conn.Segment(conn.SndUna).SentNs + srttNs - (long)sk.TcpClockCache;
        long threshold = Math.Min(srttNs >> 1, 1_000_000L);
        if (howFar - threshold > 0)
        {
            return false;
        }
        if (congWin <= skbLen)
        {
            isCwndLimited = true;
            return true;
        }
        // A sized flow's last skb carries the FIN (tcp_send_fin): it gets no more data, so it goes.
        return !(isTail && (long)(seg + skbSegs) >= conn.TotalSegments);
    }
}
