using System.Diagnostics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// Runs a <see cref="SchedScenarioSpec"/> in a fresh simulated kernel: builds the CPUs and the scheduler core with
/// its classes, forks the task groups at their times, registers and unregisters the struct_ops consumers at theirs,
/// samples the CPUs, runs to the duration and summarises.
/// </summary>
public sealed partial class SchedScenarioRunner
{
    private readonly SchedScenarioSpec _spec;
    private readonly BpfSystem _bpf;
    private readonly List<string> _notes = [];
    private readonly StructOpsActions _actions;
    private readonly SchedWorkload _workload;
    private readonly CpuSampler _sampler;
    private readonly List<ConsumerFault> _faults = [];

    /// <summary>A runner on the kernel's own classes: <see cref="FairSchedClass"/> for SCHED_NORMAL tasks.</summary>
    /// <param name="bpf">A fresh system (its simulator is the kernel's clock).</param>
    /// <exception cref="ScenarioRunException">The machine or HZ cannot be built.</exception>
    public SchedScenarioRunner(SchedScenarioSpec spec, BpfSystem bpf, ConsumerCatalog catalog)
        : this(spec, bpf, catalog, core => new FairSchedClass(core, spec.Features, spec.Seed))
    {
    }

    /// <param name="bpf">A fresh system (its simulator is the kernel's clock).</param>
    /// <param name="createFair">The fair class for the kernel (a stand-in for tests).</param>
    /// <exception cref="ScenarioRunException">The machine or HZ cannot be built.</exception>
    public SchedScenarioRunner(SchedScenarioSpec spec, BpfSystem bpf, ConsumerCatalog catalog, Func<ISchedCore, SchedClass> createFair)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(createFair);
        _spec = spec;
        _bpf = bpf;
        if (spec.Duration <= SimTime.Zero)
        {
            throw new ScenarioRunException($"duration must be positive, not {spec.Duration}");
        }
        CpuTopology topology;
        try
        {
            topology = new CpuTopology(spec.Cpus.Count, spec.Cpus.Smt, spec.Cpus.Nodes);
        }
        catch (ArgumentException e)
        {
            throw new ScenarioRunException($"cpus: {FirstLine(e.Message)}");
        }
        if (spec.Hz is < 1 or > 10_000)
        {
            throw new ScenarioRunException($"hz must be 1 … 10000, not {spec.Hz}");
        }
        Kernel = new SchedKernel(bpf.Simulator, topology, spec.Hz, createFair, spec.TimelineLimit);
        if (spec.Cpus.NohzFull.Count > 0)
        {
            if (spec.Cpus.NohzFull.Any(c => c <= 0 || c >= topology.Count))
            {
                throw new ScenarioRunException($"cpus.nohz_full: CPUs 1 … {topology.Count - 1} only (CPU 0 keeps the timekeeping)");
            }
            Kernel.NohzFull = Cpumask.Of([.. spec.Cpus.NohzFull]);
        }
        _workload = new SchedWorkload(Kernel, spec, _notes);
        _sampler = new CpuSampler(Kernel, spec.SampleInterval);
        _actions = new StructOpsActions(bpf, catalog, _notes);
        AttachExt(bpf);
    }

    /// <summary>The simulated kernel (for tests and studies that look inside).</summary>
    public SchedKernel Kernel { get; }

    /// <summary>The workload driving the tasks.</summary>
    public SchedWorkload Workload => _workload;

    /// <summary>Runs <paramref name="spec"/> in a fresh kernel from <paramref name="createBpf"/>, reporting the fraction done to <paramref name="progress"/>.</summary>
    public static SchedRunResult Run(SchedScenarioSpec spec, Func<BpfSystem> createBpf, ConsumerCatalog catalog, Action<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(createBpf);
        return new SchedScenarioRunner(spec, createBpf(), catalog).Run(progress);
    }

    /// <summary>
    /// Runs <paramref name="spec"/> in a fresh kernel from <paramref name="createBpf"/> with the fair class from
    /// <paramref name="createFair"/>, reporting the fraction done to <paramref name="progress"/>.
    /// </summary>
    public static SchedRunResult Run(SchedScenarioSpec spec, Func<BpfSystem> createBpf, ConsumerCatalog catalog,
        Func<ISchedCore, SchedClass> createFair, Action<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(createBpf);
        return new SchedScenarioRunner(spec, createBpf(), catalog, createFair).Run(progress);
    }

    /// <summary>
    /// The file refuses a scheduler or hotplug event at or after its own duration; a shorter <c>--duration</c> can still
    /// leave some past the end, and the user is told which, rather than seeing a run without them.
    /// </summary>
    private void NoteWhatTheRunEndsBefore(SimTime end)
    {
        _notes.AddRange(StructOpsEntry.PastTheEnd(_spec.StructOps, end));
        foreach (var h in _spec.Hotplug.Where(h => h.At >= end))
        {
            _notes.Add($"{h.Location ?? "hotplug"}: cpu {h.Cpu} {(h.Online ? "online" : "offline")} at {h.At} is not before the end of the run ({end}): not done");
        }
    }

    /// <summary>Runs the scenario to its duration and returns the summary. <paramref name="progress"/> gets the fraction done.</summary>
    public SchedRunResult Run(Action<double>? progress = null)
    {
        var sim = _bpf.Simulator;
        var wall = Stopwatch.StartNew();
        long before = sim.EventsDispatched;
        _actions.Schedule(_spec.StructOps);
        ScheduleHotplug();
        var end = _spec.Duration;
        NoteWhatTheRunEndsBefore(end);
        Kernel.Metrics.StartOverview(end.Nanoseconds, [.. _workload.Groups.Select(g => g.Spec.Name)]);
        if (_spec.StructOps.Where(e => e.At is not null).Select(e => e.At!.Value.Nanoseconds).DefaultIfEmpty(-1).Min() is var first and >= 0)
        {
            Kernel.Metrics.KeepWindow(first, first + SchedTrace.DetailWindowNs); // the outputs' detail after the first scheduler starts
        }
        _workload.Start();
        _sampler.Start();
        const int steps = 50;
        for (int i = 1; i <= steps; i++)
        {
            sim.RunUntil(new SimTime(end.Nanoseconds / steps * i));
            progress?.Invoke(i / (double)steps);
        }
        sim.RunUntil(end);
        long events = sim.EventsDispatched - before;
        Kernel.Finish();
        var result = Summarise(events, wall);
        _actions.Dispose();
        return result with
        {
            StructOps = _bpf.StructOpsHistory.Select(StructOpsSummary.From).ToList(),
            WallSeconds = wall.Elapsed.TotalSeconds,
        };
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return nl < 0 ? message : message[..nl];
    }
}
