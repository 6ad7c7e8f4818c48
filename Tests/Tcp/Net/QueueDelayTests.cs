using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>Each packet's queueing delay (enqueue to start of transmission) into the link's histogram and the summary.</summary>
[Category("Tcp")]
public sealed class QueueDelayTests
{
    private sealed class Discard(Network net) : IPacketSink
    {
        public void Receive(int packet) => net.Packets.Free(packet);
    }

    [Test]
    public void Burst_SojournsAreTheWaitsBehindEarlierPackets()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("l", 12_000_000, SimTime.FromMilliseconds(1), new DropTailQueue(100));
        link.RecordQueueDelay();
        int route = net.AddRoute([link], net.AddSink(new Discard(net)));
        for (int i = 0; i < 5; i++)
        {
            int p = net.Packets.Allocate();
            net.Packets[p].Route = route;
            net.Packets[p].SizeBytes = 1500;
            net.Send(p);
        }
        sim.RunUntil(SimTime.FromSeconds(1));
        // 1500 B at 12 Mbit/s is 1 ms: the five wait 0, 1, 2, 3 and 4 ms.
        var h = link.Stats.QueueDelay!;
        Assert.That((h.Count, h.Mean, h.Max), Is.EqualTo((5L, 2e6, 4_000_000L)));
        var summary = QueueDelayResult.From(h);
        Assert.That(summary.Mean, Is.EqualTo(2.0));
        Assert.That(summary.P50, Is.EqualTo(2.0).Within(2.0 / 64));
        Assert.That(summary.P99, Is.EqualTo(4.0).Within(4.0 / 64));
    }

    [TestCase(false, TestName = "StopRecording_LaterPacketsAreNotCounted(plain FIFO)")]
    [TestCase(true, TestName = "StopRecording_LaterPacketsAreNotCounted(lossy link)")]
    public void StopRecording_LaterPacketsAreNotCounted(bool lossy)
    {
        // A plain FIFO link and one a loss model observes take different paths per packet; both record until stopped.
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var link = net.AddLink("l", 12_000_000, SimTime.FromMilliseconds(1), new DropTailQueue(100));
        if (lossy)
        {
            link.Loss = new BernoulliLoss(1e-12);
        }
        link.RecordQueueDelay();
        int route = net.AddRoute([link], net.AddSink(new Discard(net)));
        void Burst(int n)
        {
            for (int i = 0; i < n; i++)
            {
                int p = net.Packets.Allocate();
                net.Packets[p].Route = route;
                net.Packets[p].SizeBytes = 1500;
                net.Send(p);
            }
        }
        Burst(3);
        sim.RunUntil(SimTime.FromSeconds(1));
        link.StopRecordingQueueDelay();
        Burst(4);
        sim.RunUntil(SimTime.FromSeconds(2));
        var h = link.Stats.QueueDelay!;
        Assert.That((h.Count, h.Max, link.Stats.PacketsSent), Is.EqualTo((3L, 2_000_000L, 7L)));
    }

    [Test]
    public void LinkNotRecording_HasNoHistogram()
    {
        var net = new Network(new Simulator(), 1);
        var link = net.AddLink("l", 12_000_000, SimTime.Zero, new DropTailQueue(100));
        Assert.That(link.Stats.QueueDelay, Is.Null);
        Assert.That(QueueDelayResult.From(null), Is.EqualTo(QueueDelayResult.Empty));
    }
}
