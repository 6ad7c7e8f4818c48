using BpfSim.Studies.Runs;

namespace BpfSim.Studies.Sweeps;

/// <summary>How a sweep runs: where, on how many workers, and with which run-time options.</summary>
public sealed record SweepExecution
{
    /// <summary>The sweep's output folder; runs go to its <c>runs/POINT-SEED/</c>.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Simulations at once (<c>--jobs</c>).</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    /// <summary>Skip runs whose folder has a <c>done</c> marker (<c>--resume</c>).</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// The run-time options every run gets (<c>--format</c>, <c>--pcap</c>, <c>--call-timeout</c>);
    /// <see cref="RunSettings.TraceDirectory"/> is a folder inside each run's folder.
    /// </summary>
    public RunSettings Settings { get; init; } = new();

    /// <summary>Told (runs done, total, failed) as runs finish, from the workers' threads (one at a time).</summary>
    public Action<int, int, int>? Progress { get; init; }
}
