using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tests.Ebpf.Sched;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Scheduler.Perf;

/// <summary>
/// Pins the scheduler's behaviour while its hot paths are optimised: each scenario's complete result (every task's
/// runtime, waits, switches, migrations, wake-ups, periods and deadline misses, the job groups, the per-CPU
/// utilization and switches, every per-CPU timeline segment and the sampled series) is hashed, and the hash must
/// stay what it was. The golden hashes were generated once from the code as it stood before the performance work
/// (t-perf at 861c9f7: t-core + t-fair + t-ext + t-bpf) and must not be regenerated to make an optimisation pass;
/// a change that is meant to alter schedules regenerates them and says so in its commit. The scx_simple hashes were
/// regenerated once, for the SwitchClass fix (a fair sleeper kept queued by DELAY_DEQUEUE is dequeued before sched_ext
/// takes it, instead of being enqueued there as runnable).
/// </summary>
public sealed class SchedGoldenDigestTests
{
    private static readonly Dictionary<string, string> Golden = new()
    {
        // Changed on purpose for the fair-class audit: without sched_ext, __schedule now takes pick_next_task_fair's
        // order (pick, finishing delayed dequeues, then newidle balance), so a CPU left with only delayed sleepers
        // pulls instead of idling. That moved fair_mixed, fair_periodic, fair_many_sleep_wake and the scx_simple runs
        // (fair-only until the scheduler attaches); fair_mixed moved again when need_resched came to be cleared after
        // the pick. The C# port and the .bpf.o still agree with each other.
        // Changed on purpose again in session 33, when the balancer became sched_balance_rq's (group types, avg_load,
        // nr_balance_failed, task_hot, one task per newidle pull): every scenario but fair_cpu_bound_nice moved, the
        // scx_simple ones in their fair-only start. Port and .bpf.o still agree.
        // Changed on purpose in session 34, when PELT replaced the instantaneous stand-ins for load, utilization and
        // runnable (the balancer's group statistics, task_h_load and task_util_est, wake_affine_weight): the same
        // scenarios moved, fair_cpu_bound_nice again not (equal always-runnable hogs: PELT's loads tend to the weights).
        // Port and .bpf.o still agree.
        // Changed on purpose in session 36, for NI_RANDOM (a newidle balance runs each domain on a die weighted by its
        // past pulls): fair_periodic, fair_many_sleep_wake and scx_simple_many moved; the others are unchanged. Port and
        // .bpf.o still agree.
        ["fair_mixed"] = "9472/8943/F2431A8799F9A4D31C68960F",
        ["fair_cpu_bound_nice"] = "4690/4094/DE379C378FFF9CCF84A2860D",
        ["fair_periodic"] = "4007/3547/A8D6FDE953CD9937415A03C6",
        ["fair_many_sleep_wake"] = "37283/38391/C44293AC3A38F7BDBBB38AD4",
        // Changed on purpose in session 29, by two kernel rules bpfsim lacked: an idle CPU that picks idle again sets
        // its idle bit (pick_task_idle), and idle picks rotate per CPU from 0 (cpumask_any_and_distribute). The C# port
        // and the .bpf.o still agree with each other.
        ["scx_simple_vtime"] = "7596/8044/08E9F384F8D006DD408ACF56",
        ["scx_simple_fifo"] = "7275/7643/C3DDE36CD70468A423954006",
        ["scx_simple_many"] = "34753/43734/FECB750A58F97B327FAE6DB2",
        ["scx_simple_object_vtime"] = "7596/8044/08E9F384F8D006DD408ACF56",
    };

    public static IEnumerable<string> Names => Golden.Keys;

    [TestCaseSource(nameof(Names))]
    public void Scenario_ResultsHashUnchanged(string name)
    {
        string digest = Digest(Run(name));
        Assert.That(digest, Is.EqualTo(Golden[name]), $"{name}: the schedule changed");
    }

    private static SchedRunResult Run(string name)
    {
        var web = new TaskBehavior
        {
            Kind = BehaviorKind.SleepWake, Run = new Distribution(DistributionKind.Exp, 2e6), Sleep = new Distribution(DistributionKind.Exp, 8e6),
        };
        var shortWeb = new TaskBehavior
        {
            Kind = BehaviorKind.SleepWake, Run = new Distribution(DistributionKind.Exp, 200e3), Sleep = new Distribution(DistributionKind.Exp, 5e6),
        };
        TaskGroupSpec[] mixed =
        [
            new TaskGroupSpec { Name = "hog", Count = 3, Nice = 0 },
            new TaskGroupSpec { Name = "hog5", Count = 2, Nice = 5 },
            new TaskGroupSpec { Name = "web", Count = 6, Behavior = web },
            new TaskGroupSpec
            {
                Name = "job", Arrivals = TaskArrivalKind.Poisson, Rate = 40, Stop = SimTime.FromMilliseconds(1_300),
                Behavior = new TaskBehavior { Work = new Distribution(DistributionKind.Exp, 5e6) },
            },
        ];
        TaskGroupSpec[] many = [new TaskGroupSpec { Name = "w", Count = 300, Behavior = shortWeb }, new TaskGroupSpec { Name = "hog", Count = 8, Nice = 2 }];
        var spec = name switch
        {
            "fair_mixed" or "scx_simple_vtime" or "scx_simple_fifo" or "scx_simple_object_vtime" => Spec(4, 1.5, mixed),
            "fair_cpu_bound_nice" => Spec(3, 1.0, [.. Enumerable.Range(0, 7).Select(i => new TaskGroupSpec { Name = $"hog{i}", Nice = i })]),
            "fair_periodic" => Spec(2, 1.0,
            [
                new TaskGroupSpec
                {
                    Name = "rt", Count = 4,
                    Behavior = new TaskBehavior { Kind = BehaviorKind.Periodic, Period = SimTime.FromMilliseconds(10), Runtime = SimTime.FromMilliseconds(3) },
                },
                new TaskGroupSpec { Name = "hog", Count = 1, Nice = 3 },
                new TaskGroupSpec { Name = "web", Count = 3, Behavior = web, Stop = SimTime.FromMilliseconds(700) },
            ]),
            "fair_many_sleep_wake" or "scx_simple_many" => Spec(16, 0.3, many),
            _ => throw new ArgumentException(name),
        };
        string? program = name switch
        {
            "scx_simple_vtime" or "scx_simple_fifo" or "scx_simple_many" => "scx_simple",
            "scx_simple_object_vtime" => BpfObjects.PathOf("scx_simple"),
            _ => null,
        };
        if (program != null)
        {
            spec = spec with
            {
                StructOps =
                [
                    new StructOpsEntry
                    {
                        Program = program, At = SimTime.FromMilliseconds(100),
                        Globals = [new ConsumerGlobal("fifo_sched", name == "scx_simple_fifo" ? "true" : "false")],
                    },
                ],
            };
        }
        var bpf = new BpfSystem(new BpfSystemOptions { Cpus = spec.Cpus.Count }) { KernelBtfSource = () => SchedKernelBtfTests.Kernel() };
        var catalog = new ConsumerCatalog();
        catalog.Add(typeof(ScxSimple), "builtin");
        return new SchedScenarioRunner(spec, bpf, catalog).Run();
    }

    private static SchedScenarioSpec Spec(int cpus, double seconds, TaskGroupSpec[] groups) => new()
    {
        Seed = 11,
        Duration = new SimTime((long)(seconds * 1e9)),
        Cpus = new CpuSpec { Count = cpus },
        Tasks = groups,
        TimelineLimit = 10_000_000,
        SampleInterval = SimTime.FromMilliseconds(50),
    };

    /// <summary>SHA-256 over the result's text: per task, per job group, per CPU, the timeline and the samples.</summary>
    internal static string Digest(SchedRunResult r)
    {
        // Records print doubles in the current culture: hash them as the golden values were made (invariant).
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            return DigestInvariant(r);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    private static string DigestInvariant(SchedRunResult r)
    {
        var sb = new StringBuilder();
        foreach (var t in r.Tasks)
        {
            sb.Append(t).Append('\n');
        }
        foreach (var j in r.Jobs)
        {
            sb.Append(j).Append('\n');
        }
        foreach (var c in r.Cpus)
        {
            // The line as the record printed before it had Ticks (session 33): ticks follow from the schedule hashed here.
            sb.Append($"CpuResult {{ Id = {c.Id}, Utilization = {c.Utilization}, Switches = {c.Switches}, Node = {c.Node} }}").Append('\n');
        }
        sb.Append(r.Fairness).Append('\n').Append(r.Events).Append(' ').Append(r.SchedEvents).Append('\n');
        foreach (var s in r.Trace.Timeline)
        {
            sb.Append(s.Cpu).Append(' ').Append(s.StartNs).Append(' ').Append(s.EndNs).Append(' ').Append(s.Task).Append(' ').Append(s.Class).Append('\n');
        }
        foreach (var s in r.Trace.Samples)
        {
            sb.Append(s).Append('\n');
        }
        foreach (var e in r.Ejections)
        {
            sb.Append(e).Append('\n');
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()));
        return $"{r.Events}/{r.SchedEvents}/{Convert.ToHexString(hash, 0, 12)}";
    }
}
