using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>A route's end that records (arrival time, sequence number) of each packet and frees it.</summary>
internal sealed class RecordingSink(Network net) : IPacketSink
{
    public readonly List<(long T, uint Seq)> Received = [];

    /// <summary>Names something for the network's prefetch hint to touch, so tests exercise that path too.</summary>
    public object? PrefetchTarget => Received;

    public void Receive(int packet)
    {
        Received.Add((net.Simulator.Now.Nanoseconds, net.Packets[packet].Segment.Seq));
        net.Packets.Free(packet);
    }
}
