using BpfSim.Core.Bpf.Consumers;

namespace BpfSim.Studies.Runs;

/// <summary>
/// How to run a scenario, apart from the scenario itself: what <c>bpfsim run</c> and <c>bpfsim sweep</c> take on the
/// command line (DESIGN §7: run-time options shared by run and sweep). None of it changes the simulation's results.
/// </summary>
public sealed record RunSettings
{
    /// <summary>Wall-clock budget for one call into a consumer (<c>--call-timeout</c>); a call over it ejects the consumer.</summary>
    public TimeSpan CallBudget { get; init; } = ContainedRun.DefaultCallBudget;

    /// <summary>Told the fraction of simulated time done, from the run's thread.</summary>
    public Action<double>? Progress { get; init; }

    /// <summary>Told what the user should know while the run goes (a hung consumer call being replayed).</summary>
    public Action<string>? Notice { get; init; }

    /// <summary>Where per-event MessagePack traces go (<c>--trace DIR</c>); null for none.</summary>
    public string? TraceDirectory { get; init; }

    /// <summary>Links whose packets are written as pcap files (<c>--pcap LINK</c>, by link name).</summary>
    public IReadOnlyList<string> PcapLinks { get; init; } = [];

    /// <summary><c>--dump-map NAME</c>: the XDP objects' maps to print after the run (the run itself is unchanged).</summary>
    public IReadOnlyList<string> DumpMaps { get; init; } = [];

    /// <summary>Formats of the tables written with the outputs (<c>--format</c>).</summary>
    public OutputFormats Formats { get; init; } = OutputFormats.Csv;

    /// <summary>
    /// Whether BPF objects' programs run compiled (<see cref="Core.Bpf.BpfSystemOptions.Jit"/>, the default) or in the
    /// interpreter (<c>--no-jit</c>).
    /// </summary>
    public bool Jit { get; init; } = true;

    /// <summary>Where the run's files go (<c>--out DIR</c>); null writes none. pcaps without it go to the current folder.</summary>
    public string? OutputDirectory { get; init; }
}
