using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack : IEventPrefetcher
{
    /// <summary>
    /// A timer of a connection is among the next events: at the farthest distance the line holding the connection's
    /// address and the timer's end's socket, then the connection's first lines, then what that end reaches through the
    /// connection (<see cref="PrefetchConnectionState"/>). With 10,000 flows none of it is usually in the caches.
    /// </summary>
    unsafe void IEventPrefetcher.Prefetch(int kind, long arg, int distance)
    {
        var connections = CollectionsMarshal.AsSpan(_connections);
        if (!Sse.IsSupported || (ulong)arg >= (ulong)connections.Length)
        {
            return;
        }
        bool sender = IsSenderTimer(kind);
        if (distance == IEventPrefetcher.Distances)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref connections[(int)arg]));
            byte* sock = (byte*)Unsafe.AsPointer(ref sender ? ref _socks[arg] : ref _rcvSocks[arg]);
            Sse.Prefetch0(sock);
            Sse.Prefetch0(sock + 64);
        }
        else if (distance == 2)
        {
            ObjectPrefetch.Lines(connections[(int)arg], 4);
        }
        else
        {
            PrefetchConnectionState(connections[(int)arg], sender);
        }
    }

    // The receiving end's timers: the NAPI poll, the delayed ACK and the SYN-ACK's; the rest are the sender's.
    private static bool IsSenderTimer(int kind) => kind is not (KindNapi or KindDelack or KindSynAck);

    /// <summary>
    /// An arrival at one end of <paramref name="conn"/> is next, and the connection's first lines were asked for an
    /// event earlier: that end's socket (its first three lines), and what each end reaches through references — the
    /// sender its scoreboard at snd_una, the receiver its reassembly map at rcv_nxt and its NAPI batch — and the timers
    /// it re-arms. Only hints.
    /// </summary>
    internal unsafe void PrefetchConnectionState(TcpConnection conn, bool sender)
    {
        if (!Sse.IsSupported || (uint)conn.Id >= (uint)_socks.Length)
        {
            return;
        }
        byte* sock = (byte*)Unsafe.AsPointer(ref sender ? ref _socks[conn.Id] : ref _rcvSocks[conn.Id]);
        Sse.Prefetch0(sock);
        Sse.Prefetch0(sock + 64);
        Sse.Prefetch0(sock + 128);
        if (sender)
        {
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
}
