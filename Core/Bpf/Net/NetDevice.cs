namespace BpfSim.Core.Bpf.Net;

/// <summary>STAND-IN for t-kern's NetDevice (replaced at merge): struct net_device as far as the hooks go.</summary>
public sealed class NetDevice
{
    internal NetDevice(uint ifindex, string name)
    {
        Ifindex = ifindex;
        Name = name;
    }

    public uint Ifindex { get; }

    public string Name { get; }

    public XdpHook Xdp { get; } = new();

    public TcxHook TcxIngress { get; } = new();
}
