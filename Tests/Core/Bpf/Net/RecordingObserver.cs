using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Tests.Core.Bpf.Net;

/// <summary>Records what the hooks report.</summary>
public sealed class RecordingObserver : IPacketProgramObserver
{
    public List<(string Dev, string Prog, int Ret)> Runs { get; } = [];

    public int ChainLookups { get; private set; }

    public void OnProgramRun(NetDevice dev, BpfProgram prog, int ret) => Runs.Add((dev.Name, prog.Name, ret));

    public void OnChainLookup(NetDevice dev) => ChainLookups++;
}
