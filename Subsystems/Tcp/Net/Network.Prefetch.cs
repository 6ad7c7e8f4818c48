using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

public sealed partial class Network : IEventPrefetcher
{
    /// <summary>
    /// The simulator asks about each of the next events at three distances. An arrival's packet and the record of the
    /// link it enters next are named by the argument (see <see cref="ArrivalArg"/>) and asked for at every distance
    /// (a no-op once they are on their way); at the end of its route, the sink's entry is asked for at the farthest,
    /// then the sink, its connection and the route and link its answer enters, then what the sink reaches through the
    /// connection (<see cref="IPacketSink.PrefetchState"/>). A finished transmission's link record comes first, then
    /// the packet at the head of its queue, then that packet's route (the departure reads its next hop there). With
    /// 10,000 flows all of it was last touched a propagation delay ago and is rarely still in the caches. Only hints.
    /// </summary>
    void IEventPrefetcher.Prefetch(int kind, long arg, int distance)
    {
        if (kind == KindArrival)
        {
            int where = (int)(arg >> 32);
            PrefetchArrival(arg, where);
            if (where < 0)
            {
                int sink = -where - 1;
                if ((uint)sink < (uint)_sinkCount)
                {
                    PrefetchSink(sink, distance);
                }
            }
        }
        else if (kind == KindTxComplete && (uint)arg < (uint)_state.Count)
        {
            int id = (int)arg;
            if (distance == IEventPrefetcher.Distances)
            {
                _state.Prefetch(id);
                return;
            }
            ref readonly var s = ref _state[id];
            if ((s.Flags & LinkState.Fifo) == 0 || s.QueueLength == 0)
            {
                return;
            }
            int head = s.FifoHead(Packets);
            if (distance == 2)
            {
                Packets.Prefetch(head);
            }
            else if ((uint)Packets[head].Route < (uint)_routes.Count)
            {
                _routes.Prefetch(Packets[head].Route);
            }
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
    /// An arrival at <paramref name="sink"/>, <paramref name="distance"/> events ahead: the line of its entry; then the
    /// sink object, the first lines of its connection, and the route and record of the link its answer enters; then
    /// what the sink reaches through them.
    /// </summary>
    private unsafe void PrefetchSink(int sink, int distance)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        if (distance == IEventPrefetcher.Distances)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref _sinks[sink]));
            return;
        }
        ref readonly var entry = ref _sinks[sink];
        if (distance == 1)
        {
            entry.Sink.PrefetchState();
            return;
        }
        if (entry.ReplyLink > 0)
        {
            _state.Prefetch(entry.ReplyLink - 1);
            _routes.Prefetch(entry.ReplyRoute - 1);
        }
        ObjectPrefetch.Lines(entry.Sink, 1);
        if (entry.Target is { } target)
        {
            ObjectPrefetch.Lines(target, 4);
        }
    }
}
