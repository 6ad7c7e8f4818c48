namespace BpfSim.Tcp.Net;

/// <summary>
/// A node of the topology: a host (a sender or receiver, which delivers to its endpoint and forwards nothing) or a
/// router (which forwards by its table, decrementing the IPv4 TTL). Its interfaces receive the links that end at it.
/// </summary>
public sealed class NetNode
{
    private readonly List<NetInterface> _interfaces = [];

    internal NetNode(int id, string name, bool isRouter)
    {
        Id = id;
        Name = name;
        IsRouter = isRouter;
    }

    /// <summary>The node's index in <see cref="Network.Nodes"/>.</summary>
    public int Id { get; }

    /// <summary>e.g. <c>router_left</c>, <c>s0</c>.</summary>
    public string Name { get; }

    /// <summary>Whether the node forwards packets that are not for it (ip_forward).</summary>
    public bool IsRouter { get; }

    /// <summary>Its interfaces, in creation order.</summary>
    public IReadOnlyList<NetInterface> Interfaces => _interfaces;

    internal void Add(NetInterface iface) => _interfaces.Add(iface);

    public override string ToString() => Name;
}
