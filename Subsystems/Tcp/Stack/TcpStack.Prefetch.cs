using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

public sealed partial class TcpStack : IEventPrefetcher
{
    /// <summary>
    /// A timer of a connection is likely the next event: brings its connection object and socket into the caches
    /// while the event before it runs. With 10,000 flows they are rarely there already.
    /// </summary>
    unsafe void IEventPrefetcher.Prefetch(int kind, long arg)
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
        byte* sock = (byte*)Unsafe.AsPointer(ref _socks[arg]);
        Sse.Prefetch0(sock);
        Sse.Prefetch0(sock + 64);
    }

    /// <summary>
    /// The timer two events ahead: the same lines (the connection's address is in an array that stays in the caches),
    /// asked for a dispatch earlier.
    /// </summary>
    void IEventPrefetcher.PrefetchAhead(int kind, long arg) => ((IEventPrefetcher)this).Prefetch(kind, arg);
}
