using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BpfSim.Tcp.Net;

/// <summary>
/// One route of a network in 32 bytes: where its links start in the network's flat list of hops, how many there are,
/// the sink at its end, and its first <see cref="NearCount"/> link ids inline. A packet's next hop is then read from
/// the line that holds the route (a flow's two routes, added one after the other, share it), not from that line and
/// then the list: with 10,000 flows both were misses, one after the other, at every departure.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
internal struct RouteEntry
{
    /// <summary>Hops held inline; a longer route's further hops are read from the network's list.</summary>
    public const int NearCount = 5;

    [InlineArray(NearCount)]
    public struct NearHops
    {
        private int _first;
    }

    public int Start;
    public int Length;
    public int Sink;
    public NearHops Near;

    /// <summary>The id of hop <paramref name="hop"/> (below <see cref="Length"/>); <paramref name="hops"/> is the network's list.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int LinkAt(int hop, int[] hops) => hop < NearCount ? Near[hop] : hops[Start + hop];
}
