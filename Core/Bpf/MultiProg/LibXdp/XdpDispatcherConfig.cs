namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>
/// The frozen configuration of a libxdp dispatcher (struct xdp_dispatcher_config, xdp-tools
/// lib/libxdp/xdp-dispatcher.c.in and protocol.org): how many slots run, and per slot the chain-call action mask, the
/// run priority and the program flags. libxdp writes it into the dispatcher's rodata before load; it cannot change
/// afterwards, so every change to the set of programs builds a new dispatcher.
/// </summary>
public readonly struct XdpDispatcherConfig
{
    /// <summary>MAX_DISPATCHER_ACTIONS: the dispatcher's slots prog0..prog9.</summary>
    public const int MaxDispatcherActions = 10;

    /// <summary>XDP_DISPATCHER_MAGIC.</summary>
    public const byte MagicValue = 236;

    /// <summary>XDP_DISPATCHER_VERSION of the layout modelled here.</summary>
    public const byte CurrentVersion = 2;

    /// <summary>XDP_DISPATCHER_RETVAL: what an empty slot's stub returns; every slot's mask includes it.</summary>
    public const int DispatcherRetval = 31;

    /// <summary>XDP_DISPATCHER_MAGIC for a valid config.</summary>
    public byte Magic { get; init; }

    /// <summary>The config layout version (2).</summary>
    public byte DispatcherVersion { get; init; }

    /// <summary>Slots 0 .. NumProgsEnabled-1 run; at most <see cref="MaxDispatcherActions"/>.</summary>
    public byte NumProgsEnabled { get; init; }

    /// <summary>Whether the dispatcher was loaded with BPF_F_XDP_HAS_FRAGS (1) or not (0).</summary>
    public byte IsXdpFrags { get; init; }

    /// <summary>Per slot, the bit set of actions (1 &lt;&lt; action) after which the next slot runs.</summary>
    public XdpDispatcherSlots ChainCallActions { get; init; }

    /// <summary>Per slot, the priority of the program libxdp put there (for reading the order back).</summary>
    public XdpDispatcherSlots RunPrios { get; init; }

    /// <summary>Per slot, libxdp's program flags.</summary>
    public XdpDispatcherSlots ProgramFlags { get; init; }

    /// <summary>
    /// A version-2 config for <paramref name="runConfigs"/> in slot order (the caller sorts them): each slot's mask is
    /// the program's chain-call actions plus <see cref="DispatcherRetval"/>, as libxdp's xdp_multiprog__link_prog sets.
    /// </summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxDispatcherActions"/> programs.</exception>
    public static XdpDispatcherConfig For(ReadOnlySpan<XdpRunConfig> runConfigs)
    {
        if (runConfigs.Length > MaxDispatcherActions)
        {
            throw new ArgumentException($"a dispatcher has {MaxDispatcherActions} slots, not {runConfigs.Length}", nameof(runConfigs));
        }
        var actions = default(XdpDispatcherSlots);
        var prios = default(XdpDispatcherSlots);
        for (int i = 0; i < runConfigs.Length; i++)
        {
            actions[i] = runConfigs[i].ChainCallActions | (1u << DispatcherRetval);
            prios[i] = (uint)runConfigs[i].Priority;
        }
        return new XdpDispatcherConfig
        {
            Magic = MagicValue,
            DispatcherVersion = CurrentVersion,
            NumProgsEnabled = (byte)runConfigs.Length,
            ChainCallActions = actions,
            RunPrios = prios,
        };
    }
}
