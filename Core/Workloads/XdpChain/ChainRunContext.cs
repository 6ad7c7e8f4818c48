using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>What a design's client works with in one run: the kernel, the interface, the scenario, the actors.</summary>
internal sealed class ChainRunContext(BpfSystem bpf, NetDevice device, XdpChainScenario scenario,
    IReadOnlyList<ComponentActor> actors, ChainProgramIdentities identities)
{
    public BpfSystem Bpf { get; } = bpf;
    public NetDevice Device { get; } = device;
    public XdpChainScenario Scenario { get; } = scenario;
    public IReadOnlyList<ComponentActor> Actors { get; } = actors;
    public ChainProgramIdentities Identities { get; } = identities;

    /// <summary>bpffs as libxdp uses it: pinned objects by path (fds kept open stand for the pins' references).</summary>
    public SortedDictionary<string, int> Pins { get; } = new(StringComparer.Ordinal);

    /// <summary>The actor holding libxdp's bpffs flock, or -1.</summary>
    public int FlockHolder { get; set; } = -1;
}
