using BpfSim.Core.Bpf.Net;

namespace BpfSim.Tcp.Net;

/// <summary>
/// A port of a <see cref="NetNode"/>, named <c>NODE:PORT</c> (<c>router_left:bottleneck</c>, <c>s0:eth0</c>): the links
/// it receives (its ingress, where the XDP and tcx hooks run) and the links it transmits on. A router's port toward
/// its hosts (<c>access</c>) receives and transmits one access link per host, like a switch behind the port.
/// </summary>
public sealed class NetInterface
{
    private readonly List<Link> _inbound = [];
    private readonly List<Link> _outbound = [];

    internal NetInterface(int id, NetNode node, string port)
    {
        Id = id;
        Node = node;
        Port = port;
        Name = node.Name + ":" + port;
    }

    /// <summary>The interface's index in <see cref="Network.Interfaces"/>.</summary>
    public int Id { get; }

    /// <summary><c>NODE:PORT</c>, also its net device's name.</summary>
    public string Name { get; }

    public NetNode Node { get; }

    /// <summary>The port's name on its node.</summary>
    public string Port { get; }

    /// <summary>The links that arrive here.</summary>
    public IReadOnlyList<Link> Inbound => _inbound;

    /// <summary>The links that leave from here.</summary>
    public IReadOnlyList<Link> Outbound => _outbound;

    /// <summary>
    /// The simulated kernel's net device of this interface (its ifindex, XDP and tcx hooks); null until the network is
    /// given a kernel (<see cref="Network.AttachKernel"/>).
    /// </summary>
    public NetDevice? Device { get; internal set; }

    /// <summary>What the hooks at this interface decided, per action.</summary>
    public XdpCounters Counters { get; } = new();

    internal void AddInbound(Link link) => _inbound.Add(link);

    internal void AddOutbound(Link link) => _outbound.Add(link);

    public override string ToString() => Name;
}
