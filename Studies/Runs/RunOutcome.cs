using BpfSim.Scheduler.Workloads;
using BpfSim.Studies.Output;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Runs;

/// <summary>
/// What running a scenario gave: the typed result and summary of its subsystem (exactly one of <see cref="Tcp"/> and
/// <see cref="Sched"/> when it ran), the exit code <c>bpfsim run</c> would return, and the messages it would print on
/// standard error. <see cref="Errors"/> is non-empty exactly when the run did not complete.
/// </summary>
public sealed class RunOutcome
{
    internal RunOutcome(LoadedScenario scenario, int exitCode, IReadOnlyList<string> errors, IReadOnlyList<string> warnings,
        TcpRunResult? tcp = null, TcpRunSummary? tcpSummary = null, SchedRunResult? sched = null, SchedRunSummary? schedSummary = null)
    {
        (Scenario, ExitCode, Errors, Warnings) = (scenario, exitCode, errors, warnings);
        (Tcp, TcpSummary, Sched, SchedSummary) = (tcp, tcpSummary, sched, schedSummary);
    }

    public LoadedScenario Scenario { get; }

    /// <summary><see cref="ExitCodes"/>: 0 success, 1 the simulation failed, 2 bad input, 3 completed with a fault.</summary>
    public int ExitCode { get; }

    /// <summary>Why the run did not complete (empty when it did).</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>What went wrong in a completed run: consumer faults and scheduler ejections.</summary>
    public IReadOnlyList<string> Warnings { get; }

    public bool Completed => Errors.Count == 0;

    /// <summary>A TCP run's result (flows, links, struct_ops timeline, time series).</summary>
    public TcpRunResult? Tcp { get; }

    /// <summary>A TCP run's summary JSON (DESIGN §5).</summary>
    public TcpRunSummary? TcpSummary { get; }

    /// <summary>A scheduler run's result (tasks, CPUs, timeline, ejections).</summary>
    public SchedRunResult? Sched { get; }

    /// <summary>A scheduler run's summary JSON.</summary>
    public SchedRunSummary? SchedSummary { get; }

    /// <summary>The summary JSON of whichever subsystem ran.</summary>
    /// <exception cref="InvalidOperationException">The run did not complete.</exception>
    public string SummaryJson => TcpSummary?.ToJson() ?? SchedSummary?.ToJson()
        ?? throw new InvalidOperationException($"{Scenario.Name} did not complete: {string.Join("; ", Errors)}");

    /// <summary>
    /// Writes the run's files into <paramref name="directory"/> (summary.json, the tables in <paramref name="formats"/>,
    /// struct_ops.json, report.html) and returns their paths.
    /// </summary>
    /// <param name="directory">Where the files go.</param>
    /// <param name="formats">The tables' formats.</param>
    /// <param name="plotlyJsPath">
    /// Null: a TCP run's report.html carries plotly.js. Otherwise the path, relative to the folder, of a shared copy
    /// the report loads (<see cref="Output.Charts.PlotlyJs.WriteFile"/>; a sweep's runs share one).
    /// </param>
    /// <exception cref="InvalidOperationException">The run did not complete.</exception>
    /// <exception cref="IOException">The folder cannot be written.</exception>
    public IReadOnlyList<string> WriteOutputs(string directory, OutputFormats formats = OutputFormats.Csv, string? plotlyJsPath = null)
    {
        if (TcpSummary is { } tcp)
        {
            return OutputWriter.Write(directory, Scenario.Name, tcp, Tcp!, formats, Scenario.Tcp, plotlyJsPath);
        }
        if (SchedSummary is { } sched)
        {
            return SchedOutputWriter.Write(directory, Scenario.Name, Scenario.Sched!, sched, Sched!, formats);
        }
        throw new InvalidOperationException($"{Scenario.Name} did not complete: {string.Join("; ", Errors)}");
    }
}
