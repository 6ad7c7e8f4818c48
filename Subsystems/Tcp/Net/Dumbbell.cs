using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>The forward (data) and reverse (ACK) routes of one flow, and its round-trip propagation delay.</summary>
public readonly record struct FlowPath(int Forward, int Reverse, SimTime BaseRtt);

/// <summary>Parameters of a dumbbell: one shared bottleneck between two routers, access links per flow.</summary>
public sealed record DumbbellOptions
{
    public long BottleneckRateBps { get; init; } = 100_000_000;
    /// <summary>One-way propagation delay of the bottleneck.</summary>
    public SimTime BottleneckDelay { get; init; } = SimTime.FromMilliseconds(10);
    /// <summary>Builds the bottleneck's (data direction) queue; the random stream is the bottleneck's own.</summary>
    public Func<SimRandom, QueueDiscipline> BottleneckQueue { get; init; } = _ => new DropTailQueue(250);
    public LossModel BottleneckLoss { get; init; } = LossModel.None;
    public long AccessRateBps { get; init; } = 1_000_000_000;
    public SimTime AccessDelay { get; init; } = SimTime.FromMilliseconds(1);
    /// <summary>Queue of every access link and of the reverse bottleneck, large enough never to be the constraint.</summary>
    public int EdgeQueuePackets { get; init; } = 10_000;
    /// <summary>A Mahimahi trace the bottleneck's data direction delivers at instead of its rate; null for none.</summary>
    public DeliveryTrace? BottleneckTrace { get; init; }
    /// <summary>A Mahimahi trace the bottleneck's ACK direction delivers at instead of its rate; null for none.</summary>
    public DeliveryTrace? BottleneckReverseTrace { get; init; }
}

/// <summary>
/// A dumbbell: senders → left router → bottleneck → right router → receivers, and the mirror path for ACKs.
/// A flow's round-trip propagation delay is 2 × (sender access + bottleneck + receiver access). Nodes: the routers
/// <c>router_left</c> and <c>router_right</c>, each with the ports <c>access</c> (toward its hosts) and
/// <c>bottleneck</c>; flow I's hosts <c>sI</c> and <c>rI</c>, each with the port <c>eth0</c> (unless the network
/// does without, <see cref="Network.HostPorts"/>).
/// </summary>
public sealed class Dumbbell
{
    private readonly Network _network;
    private readonly DumbbellOptions _options;
    private int _flows;

    public Dumbbell(Network network, DumbbellOptions options)
    {
        _network = network;
        _options = options;
        var queue = options.BottleneckQueue(network.RandomFor("queue:bottleneck"));
        Bottleneck = options.BottleneckTrace is { } down
            ? network.AddLink("bottleneck", down, options.BottleneckDelay, queue, options.BottleneckLoss)
            : network.AddLink("bottleneck", options.BottleneckRateBps, options.BottleneckDelay, queue, options.BottleneckLoss);
        var reverseQueue = new DropTailQueue(options.EdgeQueuePackets);
        BottleneckReverse = options.BottleneckReverseTrace is { } up
            ? network.AddLink("bottleneck_rev", up, options.BottleneckDelay, reverseQueue)
            : network.AddLink("bottleneck_rev", options.BottleneckRateBps, options.BottleneckDelay, reverseQueue);
        var left = network.AddNode("router_left", isRouter: true);
        var right = network.AddNode("router_right", isRouter: true);
        LeftAccess = network.AddInterface(left, "access");
        var leftCore = network.AddInterface(left, "bottleneck");
        var rightCore = network.AddInterface(right, "bottleneck");
        RightAccess = network.AddInterface(right, "access");
        network.Wire(Bottleneck, leftCore, rightCore, reverse: BottleneckReverse);
        network.Wire(BottleneckReverse, rightCore, leftCore);
    }

    /// <summary>The left router's port toward the senders (it receives every sender's packets).</summary>
    public NetInterface LeftAccess { get; }

    /// <summary>The right router's port toward the receivers (it receives every receiver's ACKs).</summary>
    public NetInterface RightAccess { get; }

    /// <summary>The data direction of the shared link.</summary>
    public Link Bottleneck { get; }

    /// <summary>The ACK direction of the shared link.</summary>
    public Link BottleneckReverse { get; }

    /// <summary>Connects a sender and a receiver through their own access links.</summary>
    /// <param name="sender">Receives the flow's ACKs.</param>
    /// <param name="receiver">Receives the flow's data.</param>
    /// <param name="senderAccessDelay">Overrides the sender's access delay (RTT heterogeneity).</param>
    /// <param name="receiverAccessDelay">Overrides the receiver's access delay.</param>
    public FlowPath AddFlow(IPacketSink sender, IPacketSink receiver, SimTime? senderAccessDelay = null, SimTime? receiverAccessDelay = null)
    {
        int i = _flows++;
        var sd = senderAccessDelay ?? _options.AccessDelay;
        var rd = receiverAccessDelay ?? _options.AccessDelay;
        Link Access(string name, SimTime delay) =>
            _network.AddLink(name, _options.AccessRateBps, delay, new DropTailQueue(_options.EdgeQueuePackets));
        var senderUp = Access($"s{i}_up", sd);
        var senderDown = Access($"s{i}_down", sd);
        var receiverDown = Access($"r{i}_down", rd);
        var receiverUp = Access($"r{i}_up", rd);
        if (_network.HostPorts)
        {
            var senderPort = _network.AddInterface(_network.AddNode($"s{i}", isRouter: false), "eth0");
            var receiverPort = _network.AddInterface(_network.AddNode($"r{i}", isRouter: false), "eth0");
            _network.Wire(senderUp, senderPort, LeftAccess, reverse: senderDown);
            _network.Wire(senderDown, LeftAccess, senderPort);
            _network.Wire(receiverDown, RightAccess, receiverPort, reverse: receiverUp);
            _network.Wire(receiverUp, receiverPort, RightAccess);
        }
        int senderSink = _network.AddSink(sender);
        int receiverSink = _network.AddSink(receiver);
        int forward = _network.AddRoute([senderUp, Bottleneck, receiverDown], receiverSink);
        int reverse = _network.AddRoute([receiverUp, BottleneckReverse, senderDown], senderSink);
        return new FlowPath(forward, reverse, (sd + _options.BottleneckDelay + rd) * 2);
    }
}
