using BpfSim.Core.Bpf.MultiProg.LibXdp;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// libxdp's side of the dispatcher config (struct xdp_dispatcher_config, lib/libxdp/protocol.org): what
/// xdp_multiprog__generate writes into a new dispatcher's rodata and what xdp_multiprog__link_pinned_progs reads back.
/// </summary>
internal static class DispatcherConfigs
{
    /// <summary>XDP_DEFAULT_CHAIN_CALL_ACTIONS: chain on XDP_PASS.</summary>
    public const uint DefaultChainActions = XdpRunConfig.DefaultChainCallActions;

    /// <summary>The slots of <paramref name="config"/>: each program's run priority and chain-call actions (without the retval bit).</summary>
    public static IReadOnlyList<(uint Priority, uint ChainActions)> Read(in XdpDispatcherConfig config)
    {
        var slots = new (uint, uint)[config.NumProgsEnabled];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = (config.RunPrios[i], config.ChainCallActions[i] & ~(1u << XdpDispatcherConfig.DispatcherRetval));
        }
        return slots;
    }

    /// <summary>The config for a dispatcher of <paramref name="slots"/> (sorted): magic 236, version 2.</summary>
    public static XdpDispatcherConfig Build(IReadOnlyList<(uint Priority, uint ChainActions)> slots) =>
        XdpDispatcherConfig.For(slots.Select(s => new XdpRunConfig((int)s.Priority, s.ChainActions)).ToArray());
}
