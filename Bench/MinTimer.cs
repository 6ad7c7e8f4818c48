using System.Diagnostics;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace BpfSim.Bench;

/// <summary>
/// A busy machine's estimate of a benchmark class: each [Benchmark] method timed alone many times over (one
/// invocation, e.g. a batch of 1024 calls, a few hundred microseconds), reporting the minimum and the median per
/// operation. Where BenchmarkDotNet's means on a shared 2-core machine move by 2x with the other load, the minimum of
/// short samples (those no other process interrupted) repeats within a few percent. Run:
/// <c>dotnet run -c Release --project Bench -- min CLASS [--samples N]</c>.
/// </summary>
public static class MinTimer
{
    public static void Run(string[] args)
    {
        string name = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal))
                      ?? throw new ArgumentException("name a benchmark class, e.g. StructOpsBytecodeBench");
        int i = Array.IndexOf(args, "--samples");
        int samples = i >= 0 ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : 3000;
        var type = typeof(MinTimer).Assembly.GetTypes().Single(t => t.Name == name);
        object bench = Activator.CreateInstance(type)!;
        foreach (var setup in type.GetMethods().Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null))
        {
            setup.Invoke(bench, null);
        }
        Console.WriteLine($"| {name} method | min ns/op | median ns/op | bytes allocated/op |");
        Console.WriteLine("|---|---|---|---|");
        // Methods returning uint, called through a delegate (nothing boxed, nothing reflected per call).
        foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null && m.ReturnType == typeof(uint)))
        {
            int ops = method.GetCustomAttribute<BenchmarkAttribute>()!.OperationsPerInvoke;
            var run = method.CreateDelegate<Func<uint>>(bench);
            for (int w = 0; w < 500; w++)
            {
                run();
            }
            var times = new double[samples];
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            for (int s = 0; s < samples; s++)
            {
                long start = Stopwatch.GetTimestamp();
                run();
                times[s] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / ops;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Array.Sort(times);
            Console.WriteLine($"| {method.Name} | {times[0]:0.0} | {times[samples / 2]:0.0} | {allocated / ((double)samples * ops):0.##} |");
        }
    }
}
