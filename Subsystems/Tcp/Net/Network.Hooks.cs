using System.Buffers.Binary;
using BpfSim.Core.Bpf.Net;

namespace BpfSim.Tcp.Net;

/// <summary>
/// The receive path of an interface that is a net device (<see cref="AttachKernel"/>): a packet arriving where an XDP
/// or tcx ingress program is attached gets its real headers built into the network's one frame buffer (headroom
/// XDP_PACKET_HEADROOM, frame_sz 4096 less skb_shared_info, as a page-per-packet driver gives), the XDP hook runs
/// (net/core/dev.c do_xdp_generic; the driver's action switch), then on XDP_PASS the tcx ingress hook
/// (sch_handle_ingress), and the network acts: pass on, drop, send back out (XDP_TX), or out of another interface
/// (XDP_REDIRECT, TC_ACT_REDIRECT). The ECN bits, the TTL and the length a program leaves in the headers are copied
/// back into the simulated packet. Nothing here allocates.
/// </summary>
public sealed partial class Network
{
    /// <summary>XDP_PACKET_HEADROOM: the bytes before the packet a program can grow it into (bpf_xdp_adjust_head).</summary>
    public const int XdpHeadroom = 256;

    /// <summary>The frame each packet is given (frame_sz): a 4 KiB page.</summary>
    public const int XdpFrameSize = 4096;

    /// <summary>SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: the tail of the frame no program may grow into.</summary>
    public const int SharedInfoBytes = 320;

    private readonly byte[] _xdpFrame = new byte[XdpFrameSize];
    private FlowAddresses _unknownFlow;

    /// <summary>A packet arrived over the link it is on: hooks at the link's interface, then forwarding.</summary>
    private void Arrive(int packet)
    {
        ref var p = ref Packets[packet];
        var link = _links[p.Via != 0 ? p.Via - 1 : _routes[p.Route].LinkAt(p.Hop, _hops)];
        if (link.Ingress is { Device: { } dev } iface && !(dev.Xdp.IsEmpty && dev.TcxIngress.IsEmpty)
            && !RunHooks(packet, link, iface, dev))
        {
            return;
        }
        if (p.Via != 0)
        {
            ForwardOffRoute(packet, link);
            return;
        }
        ref readonly var route = ref _routes[p.Route];
        if (++p.Hop < route.Length)
        {
            Enter(packet, route.LinkAt(p.Hop, _hops));
        }
        else
        {
            _sinks[route.Sink].Sink.Receive(packet);
        }
    }

    /// <summary>
    /// Runs the interface's hooks on the packet, on CPU 0 (the CPU of rx queue 0, in softirq: an RCU read-side section
    /// that map helpers need), and does what they decided; true when the packet goes on as before.
    /// </summary>
    private bool RunHooks(int packet, Link link, NetInterface iface, NetDevice dev)
    {
        var kernel = _kernel!;
        if (kernel.Cpus.Current >= 0)
        {
            return RunHooksOnCpu(packet, link, iface, dev);
        }
        using var scope = kernel.EnterProgram(0);
        return RunHooksOnCpu(packet, link, iface, dev);
    }

    private bool RunHooksOnCpu(int packet, Link link, NetInterface iface, NetDevice dev)
    {
        ref var p = ref Packets[packet];
        var counters = iface.Counters;
        var frame = _xdpFrame.AsSpan(0, XdpFrameSize - SharedInfoBytes);
        int ttl = Math.Clamp(TtlOf(in p), 0, 255);
        int length = BuildFrame(packet, in p, frame[XdpHeadroom..], (byte)ttl);
        var ctx = new PacketContext
        {
            Frame = frame, Data = XdpHeadroom, DataMeta = XdpHeadroom, DataEnd = XdpHeadroom + length,
            IngressIfindex = dev.Ifindex, RxQueueIndex = 0, NowNs = _sim.Now.Nanoseconds,
        };
        if (!dev.Xdp.IsEmpty)
        {
            int action = dev.Xdp.Run(ref ctx);
            switch ((XdpAction)action)
            {
                case XdpAction.Pass:
                    counters.Pass++;
                    break;
                case XdpAction.Drop:
                    counters.Drop++;
                    Packets.Free(packet);
                    return false;
                case XdpAction.Tx:
                    Reflect(ref p, ref ctx, ref ttl, ref length);
                    if (link.Reverse is { } back && back.Egress == iface)
                    {
                        counters.Tx++;
                        SendOffRoute(packet, back);
                    }
                    else
                    {
                        counters.Aborted++; // a driver that cannot transmit: trace_xdp_exception and drop
                        Packets.Free(packet);
                    }
                    return false;
                case XdpAction.Redirect:
                    Reflect(ref p, ref ctx, ref ttl, ref length);
                    Redirect(packet, iface, ctx.RedirectIfindex);
                    return false;
                default:
                    // XDP_ABORTED, and an unknown action (bpf_warn_invalid_xdp_action, then the ABORTED case).
                    counters.Aborted++;
                    Packets.Free(packet);
                    return false;
            }
        }
        Reflect(ref p, ref ctx, ref ttl, ref length);
        if (!dev.TcxIngress.IsEmpty)
        {
            ctx.RedirectIfindex = 0;
            int verdict = dev.TcxIngress.Run(ref ctx);
            Reflect(ref p, ref ctx, ref ttl, ref length);
            switch (verdict)
            {
                // tcx_action_code (include/net/tcx.h) leaves only PASS, SHOT, REDIRECT and NEXT: TC_ACT_STOLEN, QUEUED,
                // TRAP, PIPE and the rest arrive here as NEXT, and sch_handle_ingress (net/core/dev.c) consumes only what
                // a classic tc_run returns, of which there is none here: they go on to forwarding.
                case TcxAction.Drop: // TC_ACT_SHOT
                    counters.TcxDrop++;
                    Packets.Free(packet);
                    return false;
                case TcxAction.Redirect:
                    Redirect(packet, iface, ctx.RedirectIfindex);
                    return false;
            }
        }
        if (p.TtlDelta != 0 && p.Via == 0 && iface.Node.IsRouter && p.Hop + 1 < _routes[p.Route].Length && TtlOf(in p) <= 1)
        {
            iface.Counters.TtlExpired++; // a program lowered the TTL: ip_forward refuses what it cannot decrement
            Packets.Free(packet);
            return false;
        }
        return true;
    }

    /// <summary>
    /// A redirect from <paramref name="from"/> to the interface of <paramref name="ifindex"/>: out on its link toward the
    /// packet's destination, or on its only link; refused (counted, dropped) when that interface is not on this node or
    /// has several links and none toward the destination.
    /// </summary>
    private void Redirect(int packet, NetInterface from, uint ifindex)
    {
        var target = FindInterface(ifindex);
        Link? egress = null;
        if (target is not null && target.Node == from.Node)
        {
            var best = NextHop(from.Node, _routes[Packets[packet].Route].Sink);
            egress = best is not null && best.Egress == target ? best
                : target.Outbound.Count == 1 ? target.Outbound[0]
                : null;
        }
        if (egress is null)
        {
            from.Counters.RedirectFailed++;
            Packets.Free(packet);
            return;
        }
        from.Counters.Redirect++;
        SendOffRoute(packet, egress);
    }

    /// <summary>Puts a packet on <paramref name="egress"/>, off its route from now on (its TTL as it was).</summary>
    private void SendOffRoute(int packet, Link egress)
    {
        ref var p = ref Packets[packet];
        if (p.Via == 0)
        {
            p.TtlDelta -= (short)p.Hop;
        }
        p.Via = egress.Id + 1;
        Enter(packet, egress.Id);
    }

    /// <summary>Writes the packet's Ethernet/IPv4/TCP frame after the headroom; returns the bytes of it the frame holds.</summary>
    private int BuildFrame(int packet, in Packet p, Span<byte> room, byte ttl)
    {
        ref var flow = ref (uint)p.Flow < (uint)_flowAddresses.Length && _flowAddresses[p.Flow].Known
            ? ref _flowAddresses[p.Flow]
            : ref _unknownFlow;
        PacketHeaders.Build(room, in p, in Packets.SacksOf(packet), ref flow, fromSender: !flow.Known || p.Route == flow.ForwardRoute, out int captured, ttl);
        return captured;
    }

    /// <summary>
    /// Copies what a program changed in the headers back into the packet: the ECN codepoint and the TTL of an IPv4
    /// header still at data + 14 behind an IPv4 ethertype, and the length change (bpf_xdp_adjust_head/tail).
    /// </summary>
    private static void Reflect(ref Packet p, ref PacketContext ctx, ref int ttl, ref int length)
    {
        int now = ctx.DataEnd - ctx.Data;
        if (now != length)
        {
            p.SizeBytes = Math.Max(1, p.SizeBytes + now - length);
            length = now;
        }
        var bytes = ctx.Packet;
        if (bytes.Length >= PacketHeaders.EthernetBytes + PacketHeaders.IpBytes
            && BinaryPrimitives.ReadUInt16BigEndian(bytes[12..]) == 0x0800 && bytes[PacketHeaders.EthernetBytes] >> 4 == 4)
        {
            var ip = bytes[PacketHeaders.EthernetBytes..];
            p.Ecn = (EcnCodepoint)(ip[1] & 3);
            if (ip[8] != ttl)
            {
                p.TtlDelta += (short)(ip[8] - ttl);
                ttl = ip[8];
            }
        }
    }
}
