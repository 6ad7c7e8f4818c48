using BpfSim.Core.Metrics;
using System.Diagnostics;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Metrics;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Workloads;

/// <summary>The run's summary: tasks, job groups, CPUs, fairness, and the trace for outputs.</summary>
public sealed partial class SchedScenarioRunner
{
    /// <summary>Values per group kept in <see cref="SchedTrace.WaitsByGroup"/> (a distribution's shape, not every wait).</summary>
    public const int WaitsPerGroup = 10_000;

    private SchedRunResult Summarise(long events, Stopwatch wall)
    {
        var k = Kernel;
        var m = k.Metrics;
        long endNs = k.NowNs;
        var tasks = new List<TaskResult>();
        var jobs = new List<JobGroupResult>();
        var hogRates = new List<double>();
        var hogWeights = new List<double>();
        var names = new (int Pid, string Comm, string Group)[k.Tasks.Count];
        var waitsByGroup = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var waitHistograms = new Dictionary<string, LogLinearHistogram>(StringComparer.Ordinal);
        for (int id = 0; id < k.Tasks.Count; id++)
        {
            ref var p = ref k.Tasks[id];
            int g = _workload.GroupOf(id);
            names[id] = (p.Pid, p.CommString, g >= 0 ? _workload.Groups[g].Spec.Name : "");
        }
        foreach (var g in _workload.Groups)
        {
            if (g.IsJobs)
            {
                jobs.Add(new JobGroupResult(g.Spec.Name, g.Forked, g.Completed,
                    Ms(g.Responses.Mean), Ms(g.Responses.Quantile(0.5)), Ms(g.Responses.Quantile(0.99)),
                    Ms(g.JobWaits.Mean), Ms(g.JobWaits.Quantile(0.99))));
                waitsByGroup[g.Spec.Name] = g.JobWaits.Representatives(WaitsPerGroup);
                continue;
            }
            var groupWaits = new LogLinearHistogram();
            foreach (int id in g.Tasks)
            {
                var p = k.Tasks[id];
                var w = m.Waits(id);
                groupWaits.Add(w);
                long exited = _workload.ExitedAt(id);
                long alive = (exited >= 0 ? exited : endNs) - _workload.ForkedAt(id);
                double runtime = m.Runtime(id);
                double share = alive > 0 ? runtime / alive : 0;
                tasks.Add(new TaskResult(p.Pid, p.CommString, p.Nice, ClassName(id), Math.Round(runtime / 1e9, 6),
                    Math.Round(share, 4), Ms(w.Mean), Ms(w.Quantile(0.5)), Ms(w.Quantile(0.99)), Ms(w.Quantile(0.999)),
                    Ms(w.Max), m.VoluntarySwitches(id) + m.InvoluntarySwitches(id), m.TaskMigrations(id),
                    m.TaskWakeups(id), _workload.DeadlineMisses(id), _workload.Periods(id),
                    exited >= 0 ? exited / 1e9 : null));
                if (g.Spec.Behavior.Kind == BehaviorKind.CpuBound && alive > 0)
                {
                    hogRates.Add(share);
                    hogWeights.Add(SchedPrio.WeightOfNice(p.Nice));
                }
            }
            waitsByGroup[g.Spec.Name] = groupWaits.Representatives(WaitsPerGroup);
            waitHistograms[g.Spec.Name] = groupWaits;
        }
        var (jain, maxError) = WeightedFairness.Compute(hogRates, hogWeights);
        var cpus = new List<CpuResult>();
        for (int cpu = 0; cpu < k.NrCpus; cpu++)
        {
            // Offline time is neither busy nor idle: utilization is over the time the CPU was online.
            long offline = k.OfflineNs(cpu);
            long onlineNs = endNs - offline;
            cpus.Add(new CpuResult(cpu, Math.Round(onlineNs > 0 ? m.CpuBusy(cpu) / (double)onlineNs : 0, 4), m.CpuSwitches(cpu),
                k.Topology.NodeOf(cpu), m.CpuTicks(cpu)));
        }
        return new SchedRunResult
        {
            Tasks = tasks,
            Jobs = jobs,
            Cpus = cpus,
            Fairness = new SchedFairnessResult(Math.Round(jain, 4), Math.Round(maxError, 4)),
            Schedulers = Schedulers,
            Ejections = Ejections,
            StructOps = [],
            Events = events,
            SchedEvents = k.SchedEvents,
            SimSeconds = endNs / 1e9,
            WallSeconds = wall.Elapsed.TotalSeconds,
            Trace = new SchedTrace
            {
                Timeline = m.Timeline,
                TimelineDropped = m.TimelineDropped,
                Overview = m.Overview,
                Samples = _sampler.Samples,
                TaskNames = names,
                WaitsByGroup = waitsByGroup,
                WaitHistogramsByGroup = waitHistograms,
                Markers = MarkersWithHotplug(),
                OfflineSpans = k.OfflineSpans,
            },
            Hotplug = HotplugSummary(),
            Notes = [.. _notes, .. _ext.Notes],
            Programs = Core.Ebpf.Loading.ProgramStats.Of(Core.Bpf.Consumers.ConsumerLoading.Objects(_bpf)),
            PrintkTrace = _bpf.Trace,
            Faults = _faults.Concat(_actions.LoadFaults.Select(f => f.Fault)).OrderBy(f => f.Time).ToList(),
        };
    }

    private string ClassName(int task) => Kernel.ClassIndexOf(task) == SchedKernel.ExtClass ? "ext" : "fair";

    private static double Ms(double ns) => Math.Round(ns / 1e6, 4);
}
