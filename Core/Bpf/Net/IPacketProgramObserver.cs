using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// Per-packet instrumentation of the packet hooks: every program a hook runs and every chain-call map lookup. Set
/// <see cref="BpfSystem.PacketObserver"/> to receive calls; when it is null (the default) the hooks pay one null
/// check. Implementations should not allocate: they run once per program per packet.
/// </summary>
public interface IPacketProgramObserver
{
    /// <summary>A hook of <paramref name="dev"/> ran <paramref name="prog"/>, which returned <paramref name="ret"/>: the
    /// attached program, each tcx program, a libxdp dispatcher and each EXT program in its slots, each chain-call program.</summary>
    void OnProgramRun(NetDevice dev, BpfProgram prog, int ret);

    /// <summary>The XDP hook of <paramref name="dev"/> looked up its chain-call map once.</summary>
    void OnChainLookup(NetDevice dev);
}
