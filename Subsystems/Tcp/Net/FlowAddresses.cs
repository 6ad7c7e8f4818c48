namespace BpfSim.Tcp.Net;

/// <summary>
/// How one simulated connection appears on the wire (in a pcap, to an XDP program): its addresses and ports, its two initial sequence numbers, its
/// routes (which tell a packet's direction) and its MSS; plus the IP identification counters of its two directions.
/// </summary>
public struct FlowAddresses
{
    public bool Known;
    public uint SenderIp, ReceiverIp;
    public ushort SenderPort, ReceiverPort;
    /// <summary>The sender's and the receiver's ISN: the simulated sequence numbers (SYN at 0, data from 1) plus these.</summary>
    public uint SenderIsn, ReceiverIsn;
    public int ForwardRoute, ReverseRoute;
    public ushort Mss;
    public ushort SenderIpId, ReceiverIpId;

    /// <summary>
    /// The addresses, ports and ISNs of connection <paramref name="id"/>: sender 10.1.x.y and receiver 10.2.x.y with
    /// x.y = id (10.3+/10.4+ beyond 65535 flows), sender port 32768 + id mod 28232, receiver port 5201, and ISNs drawn
    /// from the id by a fixed hash (splitmix64), so every run of a scenario writes the same numbers.
    /// </summary>
    public static FlowAddresses For(int id, int forward, int reverse, int mss)
    {
        uint high = ((uint)(id >> 16) * 2) & 0xFC; // wraps past 8 million flows
        uint low = (uint)(id + 1) & 0xFFFF; // from .1: .0 reads as a network address
        ulong h = SplitMix((ulong)id);
        return new FlowAddresses
        {
            Known = true,
            SenderIp = (10u << 24) | ((1 + high) << 16) | low,
            ReceiverIp = (10u << 24) | ((2 + high) << 16) | low,
            SenderPort = (ushort)(32768 + id % 28232),
            ReceiverPort = 5201,
            SenderIsn = (uint)h,
            ReceiverIsn = (uint)(h >> 32),
            ForwardRoute = forward,
            ReverseRoute = reverse,
            Mss = (ushort)Math.Min(mss, ushort.MaxValue),
        };
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
