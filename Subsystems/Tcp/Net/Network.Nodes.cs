using BpfSim.Core.Bpf;

namespace BpfSim.Tcp.Net;

/// <summary>
/// The topology's nodes and interfaces: a topology names its hosts and routers, gives each a port per side, and wires
/// every link from one interface to another. Routes then give each router its forwarding table
/// (<c>Network.Forwarding.cs</c>), and a kernel given to the network makes each interface a net device with hooks
/// (<c>Network.Hooks.cs</c>).
/// </summary>
public sealed partial class Network
{
    private readonly List<NetNode> _nodes = [];
    private readonly List<NetInterface> _interfaces = [];
    private readonly Dictionary<string, NetNode> _nodesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NetInterface> _interfacesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, NetInterface> _interfacesByIfindex = [];

    /// <summary>
    /// Whether the topologies make each flow's hosts nodes, with a port wired to their access links (the default).
    /// A network whose packets no hook will see may do without: its hosts' nodes and ports, their names and the
    /// wiring are some 1 KB a flow (100 MB at 100,000 flows) that nothing reads. Set it before any flow is added; a
    /// network without them cannot be given a kernel (<see cref="AttachKernel"/>).
    /// </summary>
    public bool HostPorts { get; init; } = true;

    /// <summary>The nodes, in creation order.</summary>
    public IReadOnlyList<NetNode> Nodes => _nodes;

    /// <summary>Every interface, in creation order (routers' when the topology is built, hosts' as flows open).</summary>
    public IReadOnlyList<NetInterface> Interfaces => _interfaces;

    /// <summary>Told of each interface as it is added.</summary>
    public event Action<NetInterface>? InterfaceAdded;

    /// <summary>Adds a host or a router.</summary>
    /// <exception cref="ArgumentException">A node of that name exists.</exception>
    public NetNode AddNode(string name, bool isRouter)
    {
        var node = new NetNode(_nodes.Count, name, isRouter);
        if (!_nodesByName.TryAdd(name, node))
        {
            throw new ArgumentException($"a node called '{name}' already exists", nameof(name));
        }
        _nodes.Add(node);
        return node;
    }

    /// <summary>Adds the port <paramref name="port"/> of <paramref name="node"/>, called <c>NODE:PORT</c>.</summary>
    /// <exception cref="ArgumentException">The node has a port of that name.</exception>
    public NetInterface AddInterface(NetNode node, string port)
    {
        ArgumentNullException.ThrowIfNull(node);
        var iface = new NetInterface(_interfaces.Count, node, port);
        if (!_interfacesByName.TryAdd(iface.Name, iface))
        {
            throw new ArgumentException($"an interface called '{iface.Name}' already exists", nameof(port));
        }
        _interfaces.Add(iface);
        node.Add(iface);
        if (_kernel is not null)
        {
            CreateDevice(iface);
        }
        InterfaceAdded?.Invoke(iface);
        return iface;
    }

    /// <summary>The node called <paramref name="name"/>, or null.</summary>
    public NetNode? FindNode(string name) => _nodesByName.GetValueOrDefault(name);

    /// <summary>The interface called <paramref name="name"/> (<c>NODE:PORT</c>), or null.</summary>
    public NetInterface? FindInterface(string name) => _interfacesByName.GetValueOrDefault(name);

    /// <summary>The interface whose net device has <paramref name="ifindex"/>, or null.</summary>
    public NetInterface? FindInterface(uint ifindex) => _interfacesByIfindex.GetValueOrDefault(ifindex);

    /// <summary>
    /// Wires <paramref name="link"/> from interface <paramref name="from"/> to interface <paramref name="to"/>, and
    /// optionally names its other direction.
    /// </summary>
    /// <exception cref="InvalidOperationException">The link is wired already.</exception>
    public void Wire(Link link, NetInterface from, NetInterface to, Link? reverse = null)
    {
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (link.Ingress is not null)
        {
            throw new InvalidOperationException($"link {link.Name} is wired already");
        }
        link.Egress = from;
        link.Ingress = to;
        from.AddOutbound(link);
        to.AddInbound(link);
        if (reverse is not null)
        {
            link.Reverse = reverse;
            reverse.Reverse = link;
        }
    }

    /// <summary>
    /// Gives the network a simulated kernel: every interface, now and later, becomes a net device of
    /// <paramref name="bpf"/> (named as the interface, ifindexes in creation order) whose XDP and tcx ingress hooks
    /// run on the packets arriving there. Without a kernel (the default) packets cost one null check per hop.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network has a kernel already, or was made without
    /// <see cref="HostPorts"/>.</exception>
    public void AttachKernel(BpfSystem bpf)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        if (_kernel is not null)
        {
            throw new InvalidOperationException("the network has a kernel already");
        }
        if (!HostPorts)
        {
            throw new InvalidOperationException("a network without hosts' ports (HostPorts false) cannot be given a kernel");
        }
        _kernel = bpf;
        foreach (var iface in _interfaces)
        {
            CreateDevice(iface);
        }
    }

    /// <summary>The kernel the interfaces are devices of; null when none was attached.</summary>
    public BpfSystem? Kernel => _kernel;

    private void CreateDevice(NetInterface iface)
    {
        var dev = _kernel!.AddNetDevice(iface.Name);
        iface.Device = dev;
        _interfacesByIfindex[dev.Ifindex] = iface;
    }
}
