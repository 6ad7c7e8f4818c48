using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BpfSim.Core.Bpf;
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
/// sched_ext scheduler (a C# port or a clang-built object). Reports scheduling events (context switches, wake-ups,
/// ticks and migrations, as <see cref="SchedRunResult.SchedEvents"/> counts them) per second of the run thread's CPU
/// time and of wall time, simulator events per CPU-second, bytes allocated per scheduling event, peak memory, the best
/// rate of the runs, and a digest of the results (equal digests: the same schedule). The first run in the process is
/// reported apart (it includes JIT tiering); the table is steady state. The "steady" column counts only the simulated
/// time after its first 2 % (the 50 progress steps' first): without forking the tasks and without the summary, which
/// are most of a short hog run. With the heap on huge pages (docs/performance.md, "Huge pages"): set
/// <c>DOTNET_GCLargePages=1 DOTNET_GCHeapHardLimit=0x20000000 DOTNET_GCRegionRange=0x20000000</c>.
/// Run: <c>dotnet run -c Release --project Bench -- sched [--cpus 64] [--tasks 10000] [--seconds 2]
/// [--scheduler fair|scx_simple|scx_simple_c|...] [--behavior sleep_wake|cpu_bound] [--runs 3] [--no-jit]</c>
/// (<c>--no-jit</c>: BPF objects in the interpreter).
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
        bool jit = !args.Contains("--no-jit");

        var services = new ServiceCollection().AddBpfSim().AddScheduler().AddBuiltinPrograms().BuildServiceProvider();
        var factory = services.GetRequiredService<BpfSimFactory>();
        var catalog = services.GetRequiredService<ConsumerCatalog>();

        var cold = RunOnce(spec, factory, catalog, jit);
        Console.WriteLine($"cold (first run, JIT tiering included): {cold.WallS:0.000} s wall, {cold.CpuS:0.000} s CPU, " +
                          $"{cold.SchedEvents / cold.CpuS / 1e6:0.00} M sched events per CPU-second; digest {cold.Digest}");
        Console.WriteLine();
        Console.WriteLine("| CPUs | tasks | behaviour | scheduler | sim s | wall s | thread CPU s | sched events | sched events/CPU-s | steady: sched events/CPU-s | sched events/wall-s | sim events/CPU-s | B alloc/sched event (incl. per-task set-up) | utilization | peak MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        double best = 0, bestSteady = 0;
        for (int i = 0; i < runs; i++)
        {
            var r = RunOnce(spec, factory, catalog, jit);
            best = Math.Max(best, r.SchedEvents / r.CpuS);
            bestSteady = Math.Max(bestSteady, r.SteadyPerCpuS);
            Console.WriteLine($"| {cpus} | {tasks} | {behavior} | {scheduler} | {seconds} | {r.WallS:0.000} | {r.CpuS:0.000} | {r.SchedEvents:N0} | " +
                              $"{r.SchedEvents / r.CpuS / 1e6:0.00} M | {r.SteadyPerCpuS / 1e6:0.00} M | {r.SchedEvents / r.WallS / 1e6:0.00} M | {r.Events / r.CpuS / 1e6:0.00} M | {r.AllocatedBytes / (double)r.SchedEvents:0.000} | " +
                              $"{r.Utilization:0.000} | {r.PeakMb:0} |");
            if (r.Digest != cold.Digest)
            {
                Console.WriteLine($"digest differs from the first run: {r.Digest}");
            }
            if (r.Notes.Count > 0)
            {
                Console.WriteLine($"notes: {string.Join("; ", r.Notes)}");
            }
        }
        Console.WriteLine();
        Console.WriteLine($"best: {best / 1e6:0.00} M sched events per thread CPU-second, {bestSteady / 1e6:0.00} M steady; digest {cold.Digest}");
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
            // scx_simple_c: the clang-built Programs/bpf/obj/scx_simple.bpf.o (vtime mode), through the bytecode trampolines.
            StructOps = scheduler == "fair" ? []
                : [new StructOpsEntry { Program = scheduler == "scx_simple_c" ? Ebpf.BpfObjectFiles.PathOf("scx_simple") : scheduler, At = SimTime.Zero }],
            // The timeline is for the report; a benchmark keeps none of it.
            TimelineLimit = 0,
            SampleInterval = new SimTime((long)(Math.Max(seconds / 10, 0.01) * 1e9)),
        };
    }

    private sealed record Result(double WallS, double CpuS, string Digest, long SchedEvents, long Events, long AllocatedBytes, double Utilization, double PeakMb, IReadOnlyList<string> Notes, double SteadyPerCpuS);

    private static Result RunOnce(SchedScenarioSpec spec, BpfSimFactory factory, ConsumerCatalog catalog, bool jit)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var runner = new SchedScenarioRunner(spec, factory.Create(new BpfSystemOptions { Cpus = spec.Cpus.Count, Jit = jit }), catalog);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var wall = Stopwatch.StartNew();
        double cpu0 = ThreadCpuSeconds();
        // The steady window: from the end of the first progress step (2 % of the simulated time) to the last.
        double steadyCpu0 = 0, steadyCpu1 = 0;
        long steadyEvents0 = 0, steadyEvents1 = 0;
        var result = runner.Run(f =>
        {
            if (steadyCpu0 == 0)
            {
                (steadyCpu0, steadyEvents0) = (ThreadCpuSeconds(), runner.Kernel.SchedEvents);
            }
            else if (f >= 1)
            {
                (steadyCpu1, steadyEvents1) = (ThreadCpuSeconds(), runner.Kernel.SchedEvents);
            }
        });
        double cpu = ThreadCpuSeconds() - cpu0;
        wall.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        double utilization = result.Cpus.Count == 0 ? 0 : result.Cpus.Average(c => c.Utilization);
        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;
        return new Result(wall.Elapsed.TotalSeconds, cpu, Digest(result), result.SchedEvents, result.Events, allocated, utilization, peak, result.Notes,
            (steadyEvents1 - steadyEvents0) / (steadyCpu1 - steadyCpu0));
    }

    /// <summary>
    /// This thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared, loaded machine wall time measures the neighbours;
    /// the run is single-threaded, so its thread's CPU time is its cost (GC work on other threads is not counted, the
    /// allocation column shows there is almost none).
    /// </summary>
    private static double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        }
        _ = ClockGetTime(3, out var ts); // CLOCK_THREAD_CPUTIME_ID
        return ts.Seconds + ts.Nanoseconds / 1e9;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec ts);

    /// <summary>Events / sched events / a hash of every task's runtime, switches, wakeups and migrations: equal digests
    /// mean the same schedule, so an optimisation can be checked on the bench shape itself.</summary>
    private static string Digest(SchedRunResult r)
    {
        ulong h = 14695981039346656037UL;
        foreach (var t in r.Tasks)
        {
            h = (h ^ (ulong)BitConverter.DoubleToInt64Bits(t.RuntimeSeconds)) * 1099511628211UL;
            h = (h ^ (ulong)t.Switches) * 1099511628211UL;
            h = (h ^ (ulong)t.Wakeups) * 1099511628211UL;
            h = (h ^ (ulong)t.Migrations) * 1099511628211UL;
            h = (h ^ (ulong)BitConverter.DoubleToInt64Bits(t.WaitMsMean)) * 1099511628211UL;
        }
        return $"{r.Events}/{r.SchedEvents}/{h:x16}";
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
