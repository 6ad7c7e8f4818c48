using System.Diagnostics;
using System.Globalization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Programs;
using BpfSim.Scheduler;
using BpfSim.Scheduler.Workloads;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Scenarios;

/// <summary>
/// The scheduler's whole-scenario benchmark (issue #12): C CPUs and T tasks that wake, run a little and sleep again
/// (sleep_wake: run exp(200us), sleep exp(5ms)) or CPU hogs, for S simulated seconds, under the fair class or a
/// sched_ext scheduler (a C# port or a clang-built object). Reports scheduling events per wall-clock second (context
/// switches, wake-ups, ticks and migrations, as <see cref="SchedRunResult.SchedEvents"/> counts them), simulator
/// events per second, bytes allocated per scheduling event and peak memory. The first run in the process is reported
/// apart (it includes JIT tiering); the table is steady state.
/// Run: <c>dotnet run -c Release --project Bench -- sched [--cpus 64] [--tasks 10000] [--seconds 2]
/// [--scheduler fair|scx_simple|scx_simple_c|...] [--behavior sleep_wake|cpu_bound] [--runs 3]</c>.
/// </summary>
public static class SchedScenarioBench
{
    public static void Run(string[] args)
    {
        int cpus = int.Parse(Option(args, "--cpus") ?? "64", CultureInfo.InvariantCulture);
        int tasks = int.Parse(Option(args, "--tasks") ?? "10000", CultureInfo.InvariantCulture);
        double seconds = double.Parse(Option(args, "--seconds") ?? "2", CultureInfo.InvariantCulture);
        int runs = int.Parse(Option(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        string scheduler = Option(args, "--scheduler") ?? "fair";
        string behavior = Option(args, "--behavior") ?? "sleep_wake";
        var spec = Spec(cpus, tasks, seconds, scheduler, behavior);

        var services = new ServiceCollection().AddBpfSim().AddScheduler().AddBuiltinPrograms().BuildServiceProvider();
        var factory = services.GetRequiredService<BpfSimFactory>();
        var catalog = services.GetRequiredService<ConsumerCatalog>();

        var cold = RunOnce(spec, factory, catalog);
        Console.WriteLine($"cold (first run, JIT tiering included): {cold.WallS:0.000} s, {cold.SchedEvents / cold.WallS / 1e6:0.00} M sched events/s");
        Console.WriteLine();
        Console.WriteLine("| CPUs | tasks | behaviour | scheduler | sim s | wall s | sched events | sched events/s | sim events/s | B alloc/sched event (incl. per-task set-up) | utilization | peak MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < runs; i++)
        {
            var r = RunOnce(spec, factory, catalog);
            Console.WriteLine($"| {cpus} | {tasks} | {behavior} | {scheduler} | {seconds} | {r.WallS:0.000} | {r.SchedEvents:N0} | " +
                              $"{r.SchedEvents / r.WallS / 1e6:0.00} M | {r.Events / r.WallS / 1e6:0.00} M | {r.AllocatedBytes / (double)r.SchedEvents:0.000} | " +
                              $"{r.Utilization:0.000} | {r.PeakMb:0} |");
            if (r.Notes.Count > 0)
            {
                Console.WriteLine($"notes: {string.Join("; ", r.Notes)}");
            }
        }
    }

    private static SchedScenarioSpec Spec(int cpus, int tasks, double seconds, string scheduler, string behavior)
    {
        var b = behavior switch
        {
            "cpu_bound" => TaskBehavior.CpuBound,
            "sleep_wake" => new TaskBehavior
            {
                Kind = BehaviorKind.SleepWake,
                Run = new Distribution(DistributionKind.Exp, 200_000),
                Sleep = new Distribution(DistributionKind.Exp, 5_000_000),
            },
            _ => throw new ArgumentException($"--behavior: sleep_wake or cpu_bound, not {behavior}"),
        };
        return new SchedScenarioSpec
        {
            Seed = 1,
            Duration = new SimTime((long)(seconds * 1e9)),
            Cpus = new CpuSpec { Count = cpus },
            Tasks = [new TaskGroupSpec { Name = "w", Count = tasks, Behavior = b }],
            StructOps = scheduler == "fair" ? [] : [new StructOpsEntry { Program = scheduler, At = SimTime.Zero }],
            // The timeline is for the report; a benchmark keeps none of it.
            TimelineLimit = 0,
            SampleInterval = new SimTime((long)(Math.Max(seconds / 10, 0.01) * 1e9)),
        };
    }

    private sealed record Result(double WallS, long SchedEvents, long Events, long AllocatedBytes, double Utilization, double PeakMb, IReadOnlyList<string> Notes);

    private static Result RunOnce(SchedScenarioSpec spec, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var runner = new SchedScenarioRunner(spec, factory.Create(), catalog);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var wall = Stopwatch.StartNew();
        var result = runner.Run();
        wall.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        double utilization = result.Cpus.Count == 0 ? 0 : result.Cpus.Average(c => c.Utilization);
        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;
        return new Result(wall.Elapsed.TotalSeconds, result.SchedEvents, result.Events, allocated, utilization, peak, result.Notes);
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
