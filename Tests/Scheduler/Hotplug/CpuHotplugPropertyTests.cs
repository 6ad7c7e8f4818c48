using Bogus;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Tests.Scheduler.Hotplug;

/// <summary>
/// Properties of CPU hotplug over random workloads and random hotplug schedules (fixed seed), under the fair class,
/// scx_simple (which exits at every event; half the runs restart it) and the scx_qmap port (which stays): no task
/// ever runs on an offline CPU, every CPU nanosecond is still some task's runtime or idle, the only exits are the
/// hotplug ones (SCX_EXIT_UNREG_KERN), and the same scenario gives the same schedule twice.
/// </summary>
public sealed class CpuHotplugPropertyTests
{
    private static ConsumerCatalog Catalog()
    {
        var c = new ConsumerCatalog();
        c.Add(typeof(ScxSimple), "built-in");
        c.Add(typeof(ScxQmap), "built-in");
        return c;
    }

    [Test]
    public void RandomHotplugSchedules_NoTaskRunsOnAnOfflineCpu_AndRuntimeIsConserved()
    {
        var faker = new Faker { Random = new Randomizer(20261126) };
        for (int run = 0; run < 24; run++)
        {
            var spec = RandomSpec(faker, run);
            var runner = new SchedScenarioRunner(spec, new BpfSystem(), Catalog());
            var r = runner.Run();
            var k = runner.Kernel;
            string what = $"run {run}: {spec.Cpus.Count} CPUs, {spec.StructOps.FirstOrDefault()?.Program ?? "fair"}, hotplug " +
                          string.Join(" ", spec.Hotplug.Select(h => $"{h.At}:{h.Cpu}{(h.Online ? "+" : "-")}"));
            Assert.That(r.Trace.TimelineDropped, Is.Zero, what);
            foreach (var (cpu, from, to) in r.Trace.OfflineSpans)
            {
                var overlap = r.Trace.Timeline.FirstOrDefault(x => x.Cpu == cpu && x.Task >= 0 && x.StartNs < to && x.EndNs > from);
                Assert.That(overlap.Task >= 0 && overlap.EndNs > overlap.StartNs, Is.False,
                    $"{what}: task {overlap.Task} ran on cpu {cpu} {overlap.StartNs}–{overlap.EndNs} while it was offline {from}–{to}");
            }
            for (int id = 0; id < k.Tasks.Count; id++)
            {
                ref var p = ref k.Tasks[id];
                Assert.That(p.OnRq == 0 || k.CpuOnline(p.Cpu), Is.True, $"{what}: task {id} is queued on offline cpu {p.Cpu}");
            }
            long runtime = 0, idle = 0, offline = 0;
            for (int id = 0; id < k.Tasks.Count; id++)
            {
                runtime += k.Metrics.Runtime(id);
            }
            for (int cpu = 0; cpu < k.NrCpus; cpu++)
            {
                idle += k.Metrics.CpuIdle(cpu);
                offline += k.OfflineNs(cpu);
            }
            Assert.That(runtime + idle, Is.EqualTo(k.NrCpus * spec.Duration.Nanoseconds), what);
            Assert.That(runtime, Is.LessThanOrEqualTo(k.NrCpus * spec.Duration.Nanoseconds - offline), what);
            Assert.That(r.Hotplug!.Events, Has.Count.EqualTo(spec.Hotplug.Count), what);
            Assert.That(r.Ejections, Is.Empty, what);
            Assert.That(r.Schedulers.Where(s => s.ExitKind is not null).Select(s => s.ExitKind), Is.All.EqualTo("SCX_EXIT_UNREG_KERN"), what);
        }
    }

    [Test]
    public void SameScenarioWithHotplug_SameScheduleTwice()
    {
        var faker = new Faker { Random = new Randomizer(7) };
        for (int run = 0; run < 6; run++)
        {
            var spec = RandomSpec(faker, run);
            string a = Digest(new SchedScenarioRunner(spec, new BpfSystem(), Catalog()).Run());
            string b = Digest(new SchedScenarioRunner(spec, new BpfSystem(), Catalog()).Run());
            Assert.That(b, Is.EqualTo(a), $"run {run}");
        }
    }

    private static string Digest(SchedRunResult r) =>
        string.Join(";", r.Trace.Timeline.Select(x => $"{x.Cpu},{x.StartNs},{x.EndNs},{x.Task},{x.Class}")) + "|" +
        string.Join(";", r.Tasks.Select(t => $"{t.Pid}:{t.RuntimeSeconds}:{t.Migrations}")) + "|" +
        string.Join(";", r.Hotplug?.Events.Select(e => $"{e.Seconds}:{e.Cpu}:{e.Seq}:{e.TasksMigrated}:{e.AffinityBroken}") ?? []);

    private static SchedScenarioSpec RandomSpec(Faker f, int run)
    {
        int cpus = f.Random.Int(2, 8);
        var duration = SimTime.FromMilliseconds(f.Random.Int(200, 500));
        var groups = new List<TaskGroupSpec>();
        int n = f.Random.Int(1, 3);
        for (int g = 0; g < n; g++)
        {
            bool sleeper = f.Random.Bool();
            int[]? affinity = f.Random.Bool(0.4f) ? [f.Random.Int(0, cpus - 1)] : null;
            groups.Add(new TaskGroupSpec
            {
                Name = $"g{g}",
                Count = f.Random.Int(1, 10),
                Nice = f.Random.Int(-5, 10),
                Cpus = affinity,
                Start = SimTime.FromMilliseconds(f.Random.Int(0, 30)),
                Behavior = sleeper
                    ? new TaskBehavior
                    {
                        Kind = BehaviorKind.SleepWake,
                        Run = new Distribution(DistributionKind.Exp, f.Random.Double(2e5, 3e6)),
                        Sleep = new Distribution(DistributionKind.Exp, f.Random.Double(5e5, 8e6)),
                    }
                    : TaskBehavior.CpuBound,
            });
        }
        // Hotplug: walk the run, toggling random CPUs, never the last online one.
        var hotplug = new List<HotplugSpec>();
        var online = Enumerable.Repeat(true, cpus).ToArray();
        long t = 0;
        int events = f.Random.Int(1, 10);
        for (int i = 0; i < events; i++)
        {
            t += f.Random.Long(1_000_000, duration.Nanoseconds / events);
            if (t >= duration.Nanoseconds)
            {
                break;
            }
            int cpu = f.Random.Int(0, cpus - 1);
            if (online[cpu] && online.Count(o => o) == 1)
            {
                continue;
            }
            online[cpu] = !online[cpu];
            hotplug.Add(new HotplugSpec { At = new SimTime(t), Cpu = cpu, Online = online[cpu] });
        }
        IReadOnlyList<StructOpsEntry> structOps = (run % 3) switch
        {
            0 => [],
            1 => [new StructOpsEntry { Program = "scx_simple", At = SimTime.FromMilliseconds(10), RestartOnExit = f.Random.Bool() }],
            _ => [new StructOpsEntry { Program = "scx_qmap", At = SimTime.FromMilliseconds(10) }],
        };
        return new SchedScenarioSpec
        {
            Seed = (ulong)run + 1,
            Cpus = new CpuSpec { Count = cpus },
            Duration = duration,
            Tasks = groups,
            Hotplug = hotplug,
            StructOps = structOps,
            TimelineLimit = 2_000_000,
        };
    }
}
