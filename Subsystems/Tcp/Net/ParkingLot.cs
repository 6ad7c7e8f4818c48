using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>Parameters of a parking lot: a chain of routers joined by bottleneck links.</summary>
public sealed record ParkingLotOptions
{
    /// <summary>Bottleneck links in the chain (routers = hops + 1).</summary>
    public int Hops { get; init; } = 3;
    public long HopRateBps { get; init; } = 100_000_000;
    public SimTime HopDelay { get; init; } = SimTime.FromMilliseconds(5);
    public Func<SimRandom, QueueDiscipline> HopQueue { get; init; } = _ => new DropTailQueue(250);
    public long AccessRateBps { get; init; } = 1_000_000_000;
    public SimTime AccessDelay { get; init; } = SimTime.FromMilliseconds(1);
    public int EdgeQueuePackets { get; init; } = 10_000;
    /// <summary>A Mahimahi trace every hop's data direction delivers at instead of its rate; null for none.</summary>
    public DeliveryTrace? HopTrace { get; init; }
    /// <summary>A Mahimahi trace every hop's ACK direction delivers at instead of its rate; null for none.</summary>
    public DeliveryTrace? HopReverseTrace { get; init; }
}

/// <summary>
/// A parking lot: routers R0 … Rh in a chain, hop i being the link Ri → Ri+1 (and its reverse for ACKs). A flow
/// enters at one router and leaves at a later one, so long flows cross every bottleneck and short ones one each.
/// Nodes: routers <c>router0</c> … <c>routerH</c>, each with the port <c>access</c> toward its hosts and a port
/// <c>hopI</c> per hop it ends; flow I's hosts <c>pl_sI</c> and <c>pl_rI</c> with the port <c>eth0</c>.
/// </summary>
public sealed class ParkingLot
{
    private readonly Network _network;
    private readonly ParkingLotOptions _options;
    private readonly Link[] _forward;
    private readonly Link[] _reverse;
    private readonly NetInterface[] _access;
    private int _flows;

    /// <exception cref="ArgumentOutOfRangeException">Fewer than one hop.</exception>
    public ParkingLot(Network network, ParkingLotOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Hops);
        _network = network;
        _options = options;
        _forward = new Link[options.Hops];
        _reverse = new Link[options.Hops];
        for (int h = 0; h < options.Hops; h++)
        {
            var queue = options.HopQueue(network.RandomFor($"queue:hop{h}"));
            _forward[h] = options.HopTrace is { } down
                ? network.AddLink($"hop{h}", down, options.HopDelay, queue)
                : network.AddLink($"hop{h}", options.HopRateBps, options.HopDelay, queue);
            var reverseQueue = new DropTailQueue(options.EdgeQueuePackets);
            _reverse[h] = options.HopReverseTrace is { } up
                ? network.AddLink($"hop{h}_rev", up, options.HopDelay, reverseQueue)
                : network.AddLink($"hop{h}_rev", options.HopRateBps, options.HopDelay, reverseQueue);
        }
        _access = new NetInterface[options.Hops + 1];
        var routers = new NetNode[options.Hops + 1];
        for (int r = 0; r <= options.Hops; r++)
        {
            routers[r] = network.AddNode($"router{r}", isRouter: true);
            _access[r] = network.AddInterface(routers[r], "access");
        }
        for (int h = 0; h < options.Hops; h++)
        {
            var upstream = network.AddInterface(routers[h], $"hop{h}");
            var downstream = network.AddInterface(routers[h + 1], $"hop{h}");
            network.Wire(_forward[h], upstream, downstream, reverse: _reverse[h]);
            network.Wire(_reverse[h], downstream, upstream);
        }
    }

    /// <summary>The data direction of each hop.</summary>
    public IReadOnlyList<Link> Hops => _forward;

    /// <summary>The ACK direction of each hop.</summary>
    public IReadOnlyList<Link> ReverseHops => _reverse;

    /// <summary>A flow entering at router <paramref name="fromRouter"/> and leaving at router <paramref name="toRouter"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The routers are not in 0 ≤ from &lt; to ≤ hops.</exception>
    public FlowPath AddFlow(IPacketSink sender, IPacketSink receiver, int fromRouter, int toRouter, SimTime? accessDelay = null)
    {
        if (fromRouter < 0 || toRouter <= fromRouter || toRouter > _options.Hops)
        {
            throw new ArgumentOutOfRangeException(nameof(toRouter), $"need 0 <= from < to <= {_options.Hops}; got {fromRouter}..{toRouter}");
        }
        int i = _flows++;
        var delay = accessDelay ?? _options.AccessDelay;
        Link Access(string name) => _network.AddLink(name, _options.AccessRateBps, delay, new DropTailQueue(_options.EdgeQueuePackets));
        var senderUp = Access($"pl_s{i}_up");
        var senderDown = Access($"pl_s{i}_down");
        var receiverDown = Access($"pl_r{i}_down");
        var receiverUp = Access($"pl_r{i}_up");
        if (_network.HostPorts)
        {
            var senderPort = _network.AddInterface(_network.AddNode($"pl_s{i}", isRouter: false), "eth0");
            var receiverPort = _network.AddInterface(_network.AddNode($"pl_r{i}", isRouter: false), "eth0");
            _network.Wire(senderUp, senderPort, _access[fromRouter], reverse: senderDown);
            _network.Wire(senderDown, _access[fromRouter], senderPort);
            _network.Wire(receiverDown, _access[toRouter], receiverPort, reverse: receiverUp);
            _network.Wire(receiverUp, receiverPort, _access[toRouter]);
        }
        var forward = new List<Link> { senderUp };
        forward.AddRange(_forward[fromRouter..toRouter]);
        forward.Add(receiverDown);
        var reverse = new List<Link> { receiverUp };
        reverse.AddRange(_reverse[fromRouter..toRouter].Reverse());
        reverse.Add(senderDown);
        int senderSink = _network.AddSink(sender);
        int receiverSink = _network.AddSink(receiver);
        var baseRtt = (delay * 2 + _options.HopDelay * (toRouter - fromRouter)) * 2;
        return new FlowPath(_network.AddRoute(forward, receiverSink), _network.AddRoute(reverse, senderSink), baseRtt);
    }
}
