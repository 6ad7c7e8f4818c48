namespace BpfSim.Studies.Sweeps;

/// <summary>What <see cref="SweepCollector.Collect"/> found: each run's record (null: not finished) and the files written.</summary>
public sealed record SweepCollection(IReadOnlyList<(string Run, RunRecord? Record)> Runs, IReadOnlyList<string> Files)
{
    /// <summary>0 when every run is ok, 1 when one failed or has not finished, else 3 when one completed with a fault.</summary>
    public int ExitCode => Runs.Any(r => r.Record is not { Completed: true }) ? ExitCodes.SimulationFailed
        : Runs.Any(r => r.Record!.ExitCode == ExitCodes.CompletedWithFault) ? ExitCodes.CompletedWithFault : ExitCodes.Success;
}
