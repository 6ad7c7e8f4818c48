using System.Diagnostics;
using System.Globalization;

namespace BpfSim.Bench.Machine;

/// <summary>
/// What one cache line costs to load on this machine, by how many distinct lines a loop cycles through and over how
/// much memory they are spread: a pointer chase (each load's address is the value of the one before, so no two
/// overlap) over K lines evenly spaced in a managed array of S MiB, visited in a random cyclic order. Lines packed
/// together show the caches (K × 64 B against L1, L2 and the L3 share this VM gets); the same K lines one 4 KiB page
/// apart show the TLB: on 4 KiB pages each load then needs its own translation, which a heap on huge pages does not
/// (run with <c>DOTNET_GCLargePages=1 DOTNET_GCHeapHardLimit=… DOTNET_GCRegionRange=…</c> to compare;
/// docs/performance.md, "Huge pages"). Run: <c>dotnet run -c Release --project Bench -- memlat [K:S ...]</c>.
/// </summary>
public static class MemoryLatencyProbe
{
    private const int IntsPerLine = 16;

    private static readonly string[] DefaultCases =
    [
        "16384:1", "65536:4", "131072:8", "262144:16", "2000:8", "8000:32", "20000:80", "20000:160", "200000:800",
    ];

    public static void Run(string[] args)
    {
        var cases = args.Length > 0 ? args : DefaultCases;
        Console.WriteLine("| lines | spread MiB | bytes apart | ns per dependent load |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var c in cases)
        {
            var parts = c.Split(':');
            int lines = int.Parse(parts[0], CultureInfo.InvariantCulture);
            int mib = int.Parse(parts[1], CultureInfo.InvariantCulture);
            long slots = ((long)mib << 20) / 64;
            if (slots < lines)
            {
                Console.WriteLine($"| {lines} | {mib} | – | {lines} lines do not fit in {mib} MiB |");
                continue;
            }
            long step = slots / lines;
            Console.WriteLine($"| {lines:N0} | {mib} | {step * 64:N0} | {Chase(lines, slots, step):0.0} |");
        }
    }

    /// <summary>Mean ns per load over 20 M dependent loads, after one warm-up pass over the cycle.</summary>
    private static double Chase(int lines, long slots, long step)
    {
        var memory = new int[slots * IntsPerLine];
        var order = new int[lines];
        for (int i = 0; i < lines; i++)
        {
            order[i] = i;
        }
        new Random(20261126).Shuffle(order);
        for (int i = 0; i < lines; i++)
        {
            long from = order[i] * step * IntsPerLine;
            long to = order[(i + 1) % lines] * step * IntsPerLine;
            memory[from] = checked((int)(to / IntsPerLine)); // the next line's index
        }
        long at = order[0] * step;
        for (int i = 0; i < lines; i++)
        {
            at = memory[at * IntsPerLine];
        }
        const int loads = 20_000_000;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < loads; i++)
        {
            at = memory[at * IntsPerLine];
        }
        watch.Stop();
        GC.KeepAlive(at);
        return watch.Elapsed.TotalNanoseconds / loads;
    }
}
