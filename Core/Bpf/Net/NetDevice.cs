namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// A network interface as far as the BPF hooks go (struct net_device's xdp_state and tcx_ingress): its ifindex,
/// name, XDP hook and tcx ingress bundle. Created by <see cref="BpfSystem.AddNetDevice"/>.
/// </summary>
public sealed class NetDevice
{
    internal NetDevice(BpfSystem system, uint ifindex, string name)
    {
        System = system;
        Ifindex = ifindex;
        Name = name;
        Xdp = new XdpHook(this);
        TcxIngress = new TcxHook(this);
    }

    /// <summary>The runtime that owns the device.</summary>
    public BpfSystem System { get; }

    /// <summary>1, 2, ... in creation order (dev->ifindex).</summary>
    public uint Ifindex { get; }

    public string Name { get; }

    /// <summary>One program, or one link, or (the 2019 proposal) one chain-call map.</summary>
    public XdpHook Xdp { get; }

    /// <summary>The bpf_mprog bundle of BPF_TCX_INGRESS.</summary>
    public TcxHook TcxIngress { get; }

    public override string ToString() => $"{Name} (ifindex {Ifindex})";
}
