namespace BpfSim.Tcp.Net;

/// <summary>
/// Forwarding for packets a hook sent off their route: every route teaches the nodes along it which link leads to its
/// sink (node, destination) → egress link, as a router's FIB would from the prefixes of the hosts behind it, and which
/// node the sink is at. A packet off its route is forwarded by these tables hop by hop, routers decrementing its TTL.
/// The tables are learned when first asked (a hook sent a packet off its route, or <see cref="NextHop"/>), from the
/// routes added since, in the order they came: a run without packet hooks never builds them (six entries a flow on
/// the dumbbell: 30–60 MB of peak memory at 100,000 flows).
/// </summary>
public sealed partial class Network
{
    private readonly Dictionary<(int Node, int Sink), Link> _fib = [];
    private readonly Dictionary<int, NetNode> _sinkNodes = [];
    private FlowAddresses[] _flowAddresses = new FlowAddresses[16];
    private int _routesLearned;

    /// <summary>Learns the routes added since the tables were last asked, in the order they were added.</summary>
    private void LearnRoutes()
    {
        for (; _routesLearned < _routes.Count; _routesLearned++)
        {
            var route = _routes[_routesLearned];
            LearnRoute(new ArraySegment<int>(_hops, route.Start, route.Length), route.Sink);
        }
    }

    /// <summary>Adds what a route's links teach the forwarding tables (wired links only).</summary>
    private void LearnRoute(ArraySegment<int> links, int sink)
    {
        foreach (int id in links)
        {
            var link = _links[id];
            if (link.Egress is { } from)
            {
                _fib.TryAdd((from.Node.Id, sink), link); // the first route to a destination wins, as the order routes came in
            }
        }
        if (_links[links[^1]].Ingress is { } at)
        {
            _sinkNodes.TryAdd(sink, at.Node);
        }
    }

    /// <summary>The link <paramref name="node"/> forwards packets for <paramref name="sink"/> on, or null for no route.</summary>
    public Link? NextHop(NetNode node, int sink)
    {
        LearnRoutes();
        return _fib.GetValueOrDefault((node.Id, sink));
    }

    /// <summary>
    /// Records connection <paramref name="flow"/>'s addresses and ports (<see cref="FlowAddresses.For"/>) and which of
    /// its routes is the sender's, for the headers hooks see.
    /// </summary>
    public void RegisterFlow(int flow, int forwardRoute, int reverseRoute, int mss)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(flow);
        if (flow >= _flowAddresses.Length)
        {
            Array.Resize(ref _flowAddresses, Math.Max(_flowAddresses.Length * 2, flow + 1));
        }
        _flowAddresses[flow] = FlowAddresses.For(flow, forwardRoute, reverseRoute, mss);
        if ((uint)forwardRoute < (uint)_routes.Count && (uint)reverseRoute < (uint)_routes.Count)
        {
            // Each end answers on the other route: what arrives at the receiver is acknowledged on the reverse one.
            ref var receiver = ref _sinks[_routes[forwardRoute].Sink];
            receiver.ReplyRoute = reverseRoute + 1;
            receiver.ReplyLink = _routes[reverseRoute].LinkAt(0, _hops) + 1;
            ref var sender = ref _sinks[_routes[reverseRoute].Sink];
            sender.ReplyRoute = forwardRoute + 1;
            sender.ReplyLink = _routes[forwardRoute].LinkAt(0, _hops) + 1;
        }
    }

    /// <summary>Connection <paramref name="flow"/>'s addresses; <see cref="FlowAddresses.Known"/> is false if it never registered.</summary>
    public FlowAddresses AddressesOf(int flow) =>
        (uint)flow < (uint)_flowAddresses.Length ? _flowAddresses[flow] : default;

    /// <summary>
    /// Forwards a packet that is off its route and arrived over <paramref name="link"/>: delivered if this node is its
    /// destination's, else forwarded by a router (TTL 1 or less: dropped, counted at the interface), else dropped as
    /// having no route.
    /// </summary>
    private void ForwardOffRoute(int packet, Link link)
    {
        ref var p = ref Packets[packet];
        var iface = link.Ingress!;
        var node = iface.Node;
        int sink = _routes[p.Route].Sink;
        LearnRoutes();
        if (_sinkNodes.TryGetValue(sink, out var home) && home == node)
        {
            _sinks[sink].Sink.Receive(packet);
            return;
        }
        if (!node.IsRouter || NextHop(node, sink) is not { } next)
        {
            iface.Counters.NoRoute++;
            Packets.Free(packet);
            return;
        }
        if (TtlOf(in p) <= 1)
        {
            iface.Counters.TtlExpired++;
            Packets.Free(packet);
            return;
        }
        p.TtlDelta--;
        p.Via = next.Id + 1;
        Enter(packet, next.Id);
    }

    /// <summary>The IPv4 TTL the packet carries at the interface it reached: 64, less a router per hop, plus its changes.</summary>
    private static int TtlOf(in Packet p) => PacketHeaders.DefaultTtl + p.TtlDelta - (p.Via == 0 ? p.Hop : 0);
}
