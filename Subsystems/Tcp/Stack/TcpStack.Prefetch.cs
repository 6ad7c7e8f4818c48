using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack : IEventPrefetcher
{
    /// <summary>
    /// A timer of a connection is likely the next event: its first lines and socket were asked for an event earlier
    /// (<see cref="IEventPrefetcher.PrefetchAhead"/>); now what the timer's end reaches through the connection. With
    /// 10,000 flows none of it is usually in the caches.
    /// </summary>
    void IEventPrefetcher.Prefetch(int kind, long arg)
    {
        if ((ulong)arg < (ulong)_connections.Count)
        {
            PrefetchConnectionState(_connections[(int)arg], IsSenderTimer(kind));
        }
    }

    /// <summary>
    /// The timer two events ahead: the connection's first lines and its end's socket (the connection's address is in
    /// an array that stays in the caches), so that the next stage can follow the connection's references.
    /// </summary>
    unsafe void IEventPrefetcher.PrefetchAhead(int kind, long arg)
    {
        var connections = CollectionsMarshal.AsSpan(_connections);
        if (!Sse.IsSupported || (ulong)arg >= (ulong)connections.Length)
        {
            return;
        }
        byte* conn = *(byte**)Unsafe.AsPointer(ref connections[(int)arg]);
        Sse.Prefetch0(conn);
        Sse.Prefetch0(conn + 64);
        Sse.Prefetch0(conn + 128);
        Sse.Prefetch0(conn + 192);
        byte* sock = (byte*)Unsafe.AsPointer(ref IsSenderTimer(kind) ? ref _socks[arg] : ref _rcvSocks[arg]);
        Sse.Prefetch0(sock);
        Sse.Prefetch0(sock + 64);
    }

    // The receiving end's timers: the NAPI poll, the delayed ACK and the SYN-ACK's; the rest are the sender's.
    private static bool IsSenderTimer(int kind) => kind is not (KindNapi or KindDelack or KindSynAck);

    /// <summary>
    /// An arrival at one end of <paramref name="conn"/> is next, and the connection's first lines were asked for an
    /// event earlier: the rest of the connection, that end's socket, and what each end reaches through references —
    /// the sender its counters and the scoreboard at snd_una, the receiver its reassembly map at rcv_nxt and its NAPI
    /// batch — and the timers it re-arms. Only hints.
    /// </summary>
    internal unsafe void PrefetchConnectionState(TcpConnection conn, bool sender)
    {
        if (!Sse.IsSupported || (uint)conn.Id >= (uint)_socks.Length)
        {
            return;
        }
        byte* c = *(byte**)Unsafe.AsPointer(ref conn);
        for (int offset = 256; offset < ConnectionBytes; offset += 64)
        {
            Sse.Prefetch0(c + offset);
        }
        byte* sock = (byte*)Unsafe.AsPointer(ref sender ? ref _socks[conn.Id] : ref _rcvSocks[conn.Id]);
        for (int offset = 0; offset < sizeof(TcpSock); offset += 64)
        {
            Sse.Prefetch0(sock + offset);
        }
        if (sender)
        {
            var stats = conn.Stats;
            byte* st = *(byte**)Unsafe.AsPointer(ref stats);
            Sse.Prefetch0(st);
            Sse.Prefetch0(st + 64);
            Sse.Prefetch0(st + 128);
            Sse.Prefetch0(st + 192);
            Sse.Prefetch0(Unsafe.AsPointer(ref conn.Segment(conn.SndUna)));
            _sim.PrefetchTimer(conn.RtoTimer);
        }
        else
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref conn.ReceivedAt(conn.RcvNxt)));
            if (conn.NapiBatch is { } batch)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(batch)));
            }
            _sim.PrefetchTimer(conn.NapiTimer);
            _sim.PrefetchTimer(conn.DelackTimer);
        }
    }

    // About the size of a connection object (its fields, ~480 bytes): the lines past the first four are asked for in
    // the second stage.
    private const int ConnectionBytes = 512;
}
