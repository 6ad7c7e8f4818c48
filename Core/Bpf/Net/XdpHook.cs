using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// The XDP hook of one device (dev->xdp_state, net/core/dev.c): one program attached through netlink, or one XDP
/// link, or (the 2019 chain-call proposal, never merged) one chain-call map. bpf(2) commands on
/// <see cref="BpfSystem"/> change it; the network calls <see cref="Run"/> for each received packet. A change is a
/// single reference swap, so a packet runs the old attachment or the new one, never neither (RCU publication).
/// </summary>
public sealed class XdpHook
{
    private BpfProgram? _program;
    private ChainCallMap? _chainMap;

    internal XdpHook(NetDevice device)
    {
        Device = device;
    }

    public NetDevice Device { get; }

    /// <summary>Nothing attached: the caller may skip building a context.</summary>
    public bool IsEmpty => _program is null && _chainMap is null;

    /// <summary>What runs: the attached program or the link's program; null for none or a chain-call map.</summary>
    public BpfProgram? Program => _program;

    /// <summary>The XDP link holding the hook, if any (dev_xdp_link).</summary>
    public XdpLink? Link { get; private set; }

    /// <summary>The chain-call map attached instead of a program, if any.</summary>
    public ChainCallMap? ChainMap => _chainMap;

    /// <summary>
    /// Runs the attachment on the packet (bpf_prog_run_xdp): the program, or the chain of a chain-call map. Returns
    /// the XDP action; <see cref="XdpAction.Pass"/> when nothing is attached. Allocates nothing. Programs that use
    /// per-CPU maps or map helpers must run inside <see cref="BpfSystem.EnterProgram"/>, which the caller provides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Run(ref PacketContext ctx)
    {
        var chain = _chainMap;
        if (chain is not null)
        {
            return chain.Run(Device, ref ctx);
        }
        var prog = _program;
        return prog is null ? (int)XdpAction.Pass : PacketRun.Run(Device, prog, ref ctx);
    }

    /// <summary>Publishes a netlink-attached program (dev_xdp_set_prog); the hook takes over the caller's reference.
    /// Returns the previous program, whose reference the caller drops.</summary>
    internal BpfProgram? SetProgram(BpfProgram? prog)
    {
        var old = _program;
        _program = prog;
        return old;
    }

    /// <summary>Publishes a link's program (dev_xdp_set_link); the link owns the reference.</summary>
    internal void SetLink(XdpLink? link, BpfProgram? prog)
    {
        Link = link;
        _program = prog;
    }

    /// <summary>Publishes a chain-call map; returns the previous one, whose reference the caller drops.</summary>
    internal ChainCallMap? SetChainMap(ChainCallMap? map)
    {
        var old = _chainMap;
        _chainMap = map;
        return old;
    }
}
