using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

public sealed partial class Network : IEventPrefetcher
{
    /// <summary>
    /// The simulator asks about the likely next event while the one before it runs: an arrival reads its packet and
    /// the record of the link it enters next (both named by the argument, see <see cref="ArrivalArg"/>), a finished
    /// transmission its link's record; an arrival at the end of its route, the sink and its connection, asked for an
    /// event earlier (<see cref="IEventPrefetcher.PrefetchAhead"/>), and now what the sink reaches through them
    /// (<see cref="IPacketSink.PrefetchState"/>). With 10,000 flows those were last touched a propagation delay ago
    /// and are rarely still in the caches. Only hints: no state changes.
    /// </summary>
    void IEventPrefetcher.Prefetch(int kind, long arg)
    {
        if (kind == KindArrival)
        {
            int where = (int)(arg >> 32);
            if (where < 0)
            {
                PrefetchSinkState(-where - 1);
            }
            // The packet and the next link's record were asked for a dispatch earlier (PrefetchAhead) when this
            // event was already second in line; ask again for when it was not (a no-op if they have arrived).
            PrefetchArrival(arg, where);
        }
        else if (kind == KindTxComplete)
        {
            _state.Prefetch((int)arg);
        }
    }

    /// <summary>
    /// The event after the next: what its argument names — an arrival's packet and the record of the link it enters,
    /// or at the end of its route the sink, its connection and the link its answer enters (from the sink's entry, in
    /// a table small enough for the caches), a finished transmission's link record.
    /// </summary>
    void IEventPrefetcher.PrefetchAhead(int kind, long arg)
    {
        if (kind == KindArrival)
        {
            int where = (int)(arg >> 32);
            PrefetchArrival(arg, where);
            if (where < 0)
            {
                PrefetchSink(-where - 1);
            }
        }
        else if (kind == KindTxComplete)
        {
            _state.Prefetch((int)arg);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchArrival(long arg, int where)
    {
        int packet = (int)arg;
        if ((uint)packet < (uint)Packets.Capacity)
        {
            Packets.Prefetch(packet);
        }
        if (where > 0)
        {
            _state.Prefetch(where - 1);
        }
    }

    /// <summary>
    /// The second stage for an arrival at the end of its route: the sink and its target were asked for an event
    /// earlier (<see cref="PrefetchSink"/>); the sink names what it reaches through them.
    /// </summary>
    private void PrefetchSinkState(int sink)
    {
        if ((uint)sink < (uint)_sinkCount)
        {
            _sinks[sink].Sink.PrefetchState();
        }
    }

    /// <summary>
    /// The end of a route is next: the sink object, the first lines of what it reads (its connection), and the route
    /// and record of the link its answer will enter.
    /// </summary>
    private unsafe void PrefetchSink(int sink)
    {
        if (!Sse.IsSupported || (uint)sink >= (uint)_sinkCount)
        {
            return;
        }
        ref readonly var entry = ref _sinks[sink];
        if (entry.ReplyLink > 0)
        {
            _state.Prefetch(entry.ReplyLink - 1);
            _routes.Prefetch(entry.ReplyRoute - 1);
        }
        var endpoint = entry.Sink;
        Sse.Prefetch0(*(byte**)Unsafe.AsPointer(ref endpoint));
        if (entry.Target is { } target)
        {
            byte* t = *(byte**)Unsafe.AsPointer(ref target);
            Sse.Prefetch0(t);
            Sse.Prefetch0(t + 64);
            Sse.Prefetch0(t + 128);
            Sse.Prefetch0(t + 192);
        }
    }
}
