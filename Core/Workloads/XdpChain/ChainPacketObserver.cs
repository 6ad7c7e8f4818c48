using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// Records, for the packet being run, which component programs it went through (in order) and what else the hook
/// did (other program runs such as libxdp's dispatcher, chain-call map lookups). Pre-sized; allocates nothing.
/// </summary>
internal sealed class ChainPacketObserver : IPacketProgramObserver
{
    /// <summary>Runs recorded per packet; more (a chain that loops) are counted but not kept.</summary>
    public const int MaxRecorded = 64;

    private readonly ChainProgramIdentities _identities;
    private readonly double[][] _costNs;
    private readonly SeenProgram[] _seen = new SeenProgram[MaxRecorded];

    public ChainPacketObserver(ChainProgramIdentities identities, IReadOnlyList<ChainComponentSpec> components)
    {
        _identities = identities;
        _costNs = components.Select(c => c.Versions.Select(v => v.CostNs).ToArray()).ToArray();
    }

    public int SeenCount { get; private set; }
    public int ComponentRuns { get; private set; }
    public int OtherRuns { get; private set; }
    public int ChainLookups { get; private set; }
    public double ComponentBodyNs { get; private set; }

    /// <summary>The component programs of the last packet, in order (at most <see cref="MaxRecorded"/>).</summary>
    public ReadOnlySpan<SeenProgram> Seen => _seen.AsSpan(0, SeenCount);

    public void Reset()
    {
        SeenCount = 0;
        ComponentRuns = 0;
        OtherRuns = 0;
        ChainLookups = 0;
        ComponentBodyNs = 0;
    }

    public void OnProgramRun(NetDevice dev, BpfProgram prog, int ret)
    {
        if (!_identities.TryGet(prog.Id, out var seen))
        {
            OtherRuns++;
            return;
        }
        ComponentRuns++;
        ComponentBodyNs += _costNs[seen.Component][seen.Version];
        if (SeenCount < MaxRecorded)
        {
            _seen[SeenCount++] = seen;
        }
    }

    public void OnChainLookup(NetDevice dev) => ChainLookups++;
}
