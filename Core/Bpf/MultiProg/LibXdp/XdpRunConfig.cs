using BpfSim.Core.Bpf.Net;

namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>
/// A program's libxdp run configuration (the <c>XDP_RUN_CONFIG(func)</c> BTF section <c>.xdp_run_config</c>, or
/// xdp_program__set_run_prio / set_chain_call_enabled): its priority (lower runs first) and the actions after which
/// the next program runs. Defaults: priority 50, chain on XDP_PASS only (XDP_DEFAULT_RUN_PRIO, XDP_DEFAULT_CHAIN_CALL_ACTIONS).
/// </summary>
public readonly record struct XdpRunConfig(int Priority, uint ChainCallActions)
{
    /// <summary>XDP_DEFAULT_RUN_PRIO.</summary>
    public const int DefaultPriority = 50;

    /// <summary>XDP_DEFAULT_CHAIN_CALL_ACTIONS: 1 &lt;&lt; XDP_PASS.</summary>
    public const uint DefaultChainCallActions = 1u << (int)XdpAction.Pass;

    /// <summary>The defaults.</summary>
    public XdpRunConfig() : this(DefaultPriority, DefaultChainCallActions)
    {
    }

    /// <summary>Whether the next program runs after <paramref name="action"/>.</summary>
    public bool ChainsOn(XdpAction action) => (ChainCallActions & (1u << (int)action)) != 0;

    /// <summary>The same config with chaining after <paramref name="action"/> switched on or off.</summary>
    public XdpRunConfig WithChainCall(XdpAction action, bool enabled) =>
        this with { ChainCallActions = enabled ? ChainCallActions | (1u << (int)action) : ChainCallActions & ~(1u << (int)action) };
}
