using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// The interfaces of a topology as net devices: the bytes an XDP program sees at a hop, and what the network does with
/// each action (PASS, DROP, TX, REDIRECT, ABORTED), the counters, the forwarding of packets sent off their routes
/// and the TTL that ends a loop.
/// </summary>
[Category("Tcp")]
public sealed class NetworkHooksTests
{
    private sealed class Recorder(Network net) : IPacketSink
    {
        public readonly List<(int Flow, EcnCodepoint Ecn, int Size)> Received = [];

        public void Receive(int packet)
        {
            ref var p = ref net.Packets[packet];
            Received.Add((p.Flow, p.Ecn, p.SizeBytes));
            net.Packets.Free(packet);
        }
    }

    private sealed record Bed(Simulator Sim, Network Net, BpfSystem Bpf, Dumbbell Bell, FlowPath[] Paths, Recorder[] Senders, Recorder[] Receivers);

    private static Bed Make(int flows = 2)
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var bell = new Dumbbell(net, new DumbbellOptions());
        var senders = new Recorder[flows];
        var receivers = new Recorder[flows];
        var paths = new FlowPath[flows];
        for (int i = 0; i < flows; i++)
        {
            senders[i] = new Recorder(net);
            receivers[i] = new Recorder(net);
            paths[i] = bell.AddFlow(senders[i], receivers[i]);
            net.RegisterFlow(i, paths[i].Forward, paths[i].Reverse, 1448);
        }
        var bpf = new BpfSystem(simulator: sim);
        net.AttachKernel(bpf);
        return new Bed(sim, net, bpf, bell, paths, senders, receivers);
    }

    private static void Send(Bed bed, int flow, bool data = true, int count = 1, uint seq = 1)
    {
        for (int i = 0; i < count; i++)
        {
            int p = bed.Net.Packets.Allocate();
            ref var packet = ref bed.Net.Packets[p];
            packet.Flow = flow;
            packet.Route = data ? bed.Paths[flow].Forward : bed.Paths[flow].Reverse;
            packet.SizeBytes = data ? 1500 : 66;
            packet.PayloadBytes = data ? 1434 : 0;
            packet.Segment.Seq = seq + (uint)i;
            bed.Net.Send(p);
        }
    }

    private static NetInterface Iface(Bed bed, string name) =>
        bed.Net.FindInterface(name) ?? throw new AssertionException($"no interface {name}");

    /// <summary>Attaches a C# XDP program to an interface's device.</summary>
    private static void AttachXdp(Bed bed, string iface, PacketProgramFunc body) => XdpTestPrograms.Attach(bed.Bpf, Iface(bed, iface).Device!, body);

    private static uint SourceOf(ref PacketContext ctx) => BinaryPrimitives.ReadUInt32BigEndian(ctx.Packet[26..]);

    [Test]
    public void Dumbbell_NamesEachPortNodeColonPort_AndEveryInterfaceIsADevice()
    {
        var bed = Make(flows: 1);
        Assert.That(bed.Net.Interfaces.Select(i => i.Name), Is.EqualTo(new[]
        {
            "router_left:access", "router_left:bottleneck", "router_right:bottleneck", "router_right:access", "s0:eth0", "r0:eth0",
        }));
        Assert.That(bed.Net.Interfaces.Select(i => i.Device!.Name), Is.EqualTo(bed.Net.Interfaces.Select(i => i.Name)));
        Assert.That(bed.Bell.Bottleneck.Ingress!.Name, Is.EqualTo("router_right:bottleneck"));
        Assert.That(bed.Bell.Bottleneck.Reverse, Is.SameAs(bed.Bell.BottleneckReverse));
    }

    [Test]
    public void Program_SeesTheFlowsRealHeaders_WithTtlLessOnePerRouterPassed()
    {
        var bed = Make();
        var seen = new List<(uint Src, uint Dst, ushort SrcPort, byte Ttl, int Len, int Headroom, uint Ifindex)>();
        AttachXdp(bed, "router_right:bottleneck", (ref PacketContext ctx) =>
        {
            var p = ctx.Packet;
            seen.Add((SourceOf(ref ctx), BinaryPrimitives.ReadUInt32BigEndian(p[30..]), BinaryPrimitives.ReadUInt16BigEndian(p[34..]),
                p[22], p.Length, ctx.Data, ctx.IngressIfindex));
            return (int)XdpAction.Pass;
        });
        Send(bed, flow: 1);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        var expected = bed.Net.AddressesOf(1);
        Assert.That(seen, Has.Count.EqualTo(1));
        Assert.That(seen[0].Src, Is.EqualTo(expected.SenderIp));
        Assert.That(seen[0].Dst, Is.EqualTo(expected.ReceiverIp));
        Assert.That(seen[0].SrcPort, Is.EqualTo(expected.SenderPort));
        Assert.That(seen[0].Ttl, Is.EqualTo(63), "router_left forwarded it once");
        Assert.That(seen[0].Len, Is.EqualTo(1500));
        Assert.That(seen[0].Headroom, Is.EqualTo(Network.XdpHeadroom));
        Assert.That(seen[0].Ifindex, Is.EqualTo(Iface(bed, "router_right:bottleneck").Device!.Ifindex));
        Assert.That(bed.Receivers[1].Received, Has.Count.EqualTo(1));
        Assert.That(Iface(bed, "router_right:bottleneck").Counters.Pass, Is.EqualTo(1));
    }

    [Test]
    public void Drop_OfOneSource_StopsOnlyThatFlow_AndIsCounted()
    {
        var bed = Make();
        uint dropped = bed.Net.AddressesOf(1).SenderIp;
        AttachXdp(bed, "router_left:access", (ref PacketContext ctx) =>
            (int)(SourceOf(ref ctx) == dropped ? XdpAction.Drop : XdpAction.Pass));
        Send(bed, 0, count: 5);
        Send(bed, 1, count: 7);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        var c = Iface(bed, "router_left:access").Counters;
        Assert.That((c.Pass, c.Drop), Is.EqualTo((5L, 7L)));
        Assert.That(bed.Receivers[0].Received, Has.Count.EqualTo(5));
        Assert.That(bed.Receivers[1].Received, Is.Empty);
        Assert.That(bed.Net.Packets.InUse, Is.Zero);
    }

    [Test]
    public void Aborted_AndUnknownActions_DropAsXdpExceptions()
    {
        var bed = Make();
        int n = 0;
        AttachXdp(bed, "router_left:access", (ref PacketContext _) => n++ % 2 == 0 ? (int)XdpAction.Aborted : 99);
        Send(bed, 0, count: 4);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(Iface(bed, "router_left:access").Counters.Aborted, Is.EqualTo(4));
        Assert.That(bed.Receivers[0].Received, Is.Empty);
    }

    [Test]
    public void Redirect_ToTheBottleneckPort_ReachesTheReceiverByTheForwardingTables()
    {
        var bed = Make();
        uint target = Iface(bed, "router_left:bottleneck").Device!.Ifindex;
        AttachXdp(bed, "router_left:access", (ref PacketContext ctx) =>
        {
            ctx.RedirectIfindex = target;
            return (int)XdpAction.Redirect;
        });
        Send(bed, 0, count: 3);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(Iface(bed, "router_left:access").Counters.Redirect, Is.EqualTo(3));
        Assert.That(bed.Receivers[0].Received, Has.Count.EqualTo(3));
        Assert.That(bed.Bell.Bottleneck.Stats.PacketsSent, Is.EqualTo(3));
    }

    [Test]
    public void Redirect_ToNoDeviceOfThisNode_IsDroppedAsRedirectFailed()
    {
        var bed = Make();
        uint elsewhere = Iface(bed, "router_right:access").Device!.Ifindex;
        AttachXdp(bed, "router_left:access", (ref PacketContext ctx) =>
        {
            ctx.RedirectIfindex = ctx.Packet[0] == 0xFF ? 0 : elsewhere;
            return (int)XdpAction.Redirect;
        });
        Send(bed, 0, count: 2);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        var c = Iface(bed, "router_left:access").Counters;
        Assert.That((c.Redirect, c.RedirectFailed), Is.EqualTo((0L, 2L)));
        Assert.That(bed.Receivers[0].Received, Is.Empty);
    }

    [Test]
    public void Tx_BouncingPacketsBetweenRouters_EndsWhenTheTtlRunsOut()
    {
        var bed = Make();
        AttachXdp(bed, "router_left:bottleneck", (ref PacketContext _) => (int)XdpAction.Tx);
        Send(bed, 0, data: false); // an ACK: r0 -> router_right -> bottleneck_rev -> router_left, bounced back each time
        bed.Sim.RunUntil(SimTime.FromSeconds(10));
        // It reaches router_left with TTL 63, 62, ..., 1 (router_right decrements it each round), then router_right
        // refuses to forward TTL 1.
        Assert.That(Iface(bed, "router_left:bottleneck").Counters.Tx, Is.EqualTo(63));
        Assert.That(Iface(bed, "router_right:bottleneck").Counters.TtlExpired, Is.EqualTo(1));
        Assert.That(bed.Senders[0].Received, Is.Empty);
        Assert.That(bed.Net.Packets.InUse, Is.Zero);
    }

    [Test]
    public void Tx_AtAHostsAccessPort_GoesBackToAHostThatHasNoRoute()
    {
        var bed = Make();
        AttachXdp(bed, "router_left:access", (ref PacketContext _) => (int)XdpAction.Tx);
        Send(bed, 0);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(Iface(bed, "router_left:access").Counters.Tx, Is.EqualTo(1));
        Assert.That(Iface(bed, "s0:eth0").Counters.NoRoute, Is.EqualTo(1), "s0 is not the data's destination and forwards nothing");
    }

    [Test]
    public void HeaderChanges_EcnAndLength_AreCopiedIntoThePacket()
    {
        var bed = Make();
        AttachXdp(bed, "router_left:access", (ref PacketContext ctx) =>
        {
            ctx.Packet[15] |= 3; // IPv4 TOS: ECN CE
            ctx.DataEnd -= 100; // as bpf_xdp_adjust_tail(-100)
            return (int)XdpAction.Pass;
        });
        Send(bed, 0);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(bed.Receivers[0].Received.Single(), Is.EqualTo((0, EcnCodepoint.Ce, 1400)));
    }

    [Test]
    public void Tcx_RunsAfterXdpPass_AndItsDropIsCounted()
    {
        var bed = Make();
        var dev = Iface(bed, "router_left:access").Device!;
        AttachXdp(bed, "router_left:access", (ref PacketContext _) => (int)XdpAction.Pass);
        XdpTestPrograms.AttachTcx(bed.Bpf, dev, (ref PacketContext _) => TcxAction.Drop);
        Send(bed, 0, count: 2);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        var c = Iface(bed, "router_left:access").Counters;
        Assert.That((c.Pass, c.TcxDrop), Is.EqualTo((2L, 2L)));
        Assert.That(bed.Receivers[0].Received, Is.Empty);
    }

    [TestCase(3)] // TC_ACT_PIPE
    [TestCase(4)] // TC_ACT_STOLEN
    [TestCase(5)] // TC_ACT_QUEUED
    [TestCase(8)] // TC_ACT_TRAP
    public void Tcx_StolenQueuedTrapAndPipe_AreTcxNext_SoThePacketIsForwarded_NotCountedAsTcxDrop(int code)
    {
        // tcx_action_code (include/net/tcx.h) makes every code but PASS, SHOT and REDIRECT TCX_NEXT; with no classic tc
        // filter after it, sch_handle_ingress (net/core/dev.c) lets the packet go on.
        var bed = Make();
        XdpTestPrograms.AttachTcx(bed.Bpf, Iface(bed, "router_left:access").Device!, (ref PacketContext _) => code);
        Send(bed, 0, count: 2);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(Iface(bed, "router_left:access").Counters.TcxDrop, Is.Zero);
        Assert.That(bed.Receivers[0].Received, Has.Count.EqualTo(2));
    }

    [Test]
    public void WithoutAKernel_InterfacesHaveNoDevice_AndNothingIsCounted()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1);
        var bell = new Dumbbell(net, new DumbbellOptions());
        var r = new Recorder(net);
        var path = bell.AddFlow(new Recorder(net), r);
        int p = net.Packets.Allocate();
        net.Packets[p].Route = path.Forward;
        net.Packets[p].SizeBytes = 100;
        net.Send(p);
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(net.Interfaces.All(i => i.Device is null && !i.Counters.Any));
        Assert.That(r.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public void WithoutHostPorts_OnlyTheRoutersHavePorts_PacketsStillArrive_AndNoKernelCanBeAttached()
    {
        var sim = new Simulator();
        var net = new Network(sim, 1) { HostPorts = false };
        var bell = new Dumbbell(net, new DumbbellOptions());
        var r = new Recorder(net);
        var path = bell.AddFlow(new Recorder(net), r);
        int p = net.Packets.Allocate();
        net.Packets[p].Route = path.Forward;
        net.Packets[p].SizeBytes = 100;
        net.Send(p);
        sim.RunUntil(SimTime.FromSeconds(1));
        Assert.That(net.Interfaces.Select(i => i.Name), Is.EqualTo(new[]
        {
            "router_left:access", "router_left:bottleneck", "router_right:bottleneck", "router_right:access",
        }));
        Assert.That(r.Received, Has.Count.EqualTo(1));
        Assert.Throws<InvalidOperationException>(() => net.AttachKernel(new BpfSystem(simulator: sim)));
    }

    [Test]
    public void RedirectThroughADevmapEntry_ReachesTheReceiver_AndAnEmptyEntryFallsBackToTheFlagsAction()
    {
        var bed = Make();
        bed.Bpf.MapCreate(new BpfSim.Core.Bpf.Maps.MapSpec
        {
            Type = BpfSim.Core.Bpf.Maps.MapType.DevMap, KeySize = 4, ValueSize = 4, MaxEntries = 2, Name = "tx_ports",
        }, out int fd).ThrowIfFailed();
        bed.Bpf.MapUpdateElem(fd, BitConverter.GetBytes(0u), BitConverter.GetBytes(Iface(bed, "router_left:bottleneck").Device!.Ifindex)).ThrowIfFailed();
        bed.Bpf.GetMap(fd, out var map).ThrowIfFailed();
        var devmap = (BpfSim.Core.Bpf.Maps.DevMap)map;
        // As bpf_redirect_map(&tx_ports, flow, XDP_DROP): flow 0's key holds a device, flow 1's is empty.
        AttachXdp(bed, "router_left:access", (ref PacketContext ctx) =>
        {
            uint key = SourceOf(ref ctx) == bed.Net.AddressesOf(0).SenderIp ? 0u : 1u;
            if (!devmap.TryGetIfindex(key, out uint ifindex))
            {
                return (int)XdpAction.Drop;
            }
            ctx.RedirectIfindex = ifindex;
            return (int)XdpAction.Redirect;
        });
        Send(bed, 0, count: 2);
        Send(bed, 1, count: 3);
        bed.Sim.RunUntil(SimTime.FromSeconds(1));
        var c = Iface(bed, "router_left:access").Counters;
        Assert.That((c.Redirect, c.Drop), Is.EqualTo((2L, 3L)));
        Assert.That(bed.Receivers[0].Received, Has.Count.EqualTo(2));
        Assert.That(bed.Receivers[1].Received, Is.Empty);
    }

    [Test]
    public void Forwarding_ThroughAnAttachedHook_AllocatesNothingPerPacket()
    {
        var bed = Make();
        AttachXdp(bed, "router_left:access", (ref PacketContext ctx) => ctx.Packet[23] == 6 ? (int)XdpAction.Pass : (int)XdpAction.Drop);
        AttachXdp(bed, "router_right:bottleneck", (ref PacketContext _) => (int)XdpAction.Pass);
        Send(bed, 0, count: 50);
        bed.Sim.RunUntil(SimTime.FromSeconds(1)); // warm up: pools, queues and the event heap reach their sizes
        bed.Receivers[0].Received.Capacity = 1000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Send(bed, 0, count: 50);
        bed.Sim.RunUntil(SimTime.FromSeconds(2));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(bed.Receivers[0].Received, Has.Count.EqualTo(100));
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void ParkingLot_NamesRoutersPortsByHop_AndHostsAsTheirFlowsOpen()
    {
        var net = new Network(new Simulator(), 1);
        var lot = new ParkingLot(net, new ParkingLotOptions { Hops = 2 });
        lot.AddFlow(new Recorder(net), new Recorder(net), 0, 2);
        Assert.That(net.Interfaces.Select(i => i.Name), Is.EqualTo(new[]
        {
            "router0:access", "router1:access", "router2:access", "router0:hop0", "router1:hop0", "router1:hop1", "router2:hop1",
            "pl_s0:eth0", "pl_r0:eth0",
        }));
        Assert.That(lot.Hops[1].Ingress!.Name, Is.EqualTo("router2:hop1"));
        Assert.That(net.NextHop(net.FindNode("router1")!, 1)!.Name, Is.EqualTo("hop1"), "router1 forwards the flow's data on hop1");
    }
}
