using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace BpfSim.Bench;

/// <summary>
/// Runs the micro-benchmarks: <c>dotnet run -c Release --project Bench -- --filter '*'</c> (in-process, because
/// BenchmarkDotNet 0.14 cannot generate a net10.0 host project), or the whole-scenario benchmark:
/// <c>dotnet run -c Release --project Bench -- scenario [flows...] [--cc NAME] [--seconds S] [--object PATH.bpf.o]</c>,
/// or the scheduler's: <c>dotnet run -c Release --project Bench -- sched [--cpus C] [--tasks T] [--scheduler NAME]</c>,
/// or the tracing overhead on the 10-flow dumbbell: <c>dotnet run -c Release --project Bench -- trace [--pairs N]</c>,
/// or one case of the many-flow benchmark, once, outside BenchmarkDotNet:
/// <c>dotnet run -c Release --project Bench -- manyflows FLOWS AllAtOnce|Staggered [runs]</c>,
/// or the minimum-of-short-samples timer for a busy machine: <c>dotnet run -c Release --project Bench -- min CLASS</c>,
/// or what a cache line costs on this machine by working-set size and spread: <c>dotnet run -c Release --project Bench -- memlat</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "scenario")
        {
            Scenarios.DumbbellScenarioBench.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "sched")
        {
            Scenarios.SchedScenarioBench.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "trace")
        {
            Scenarios.TraceOverheadBench.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "manyflows")
        {
            Scenarios.ManyFlowsBench.RunCase(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "memlat")
        {
            Machine.MemoryLatencyProbe.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == "min")
        {
            MinTimer.Run(args[1..]);
            return;
        }
        // In-process benchmarks time out after 5 minutes by default; the many-flow benchmark's 10,000-flow case runs for
        // minutes per iteration on a loaded machine.
        var toolchain = new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true);
        var job = Job.Default.WithToolchain(toolchain);
        if (args.Contains("--quick"))
        {
            args = args.Where(a => a != "--quick").ToArray();
            job = Job.ShortRun.WithToolchain(toolchain);
        }
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
