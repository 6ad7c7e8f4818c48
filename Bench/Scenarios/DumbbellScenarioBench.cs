using System.Diagnostics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Programs;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Scenarios;

/// <summary>
/// The whole-scenario benchmark of issue #4: N bulk flows share a 100 Mbit/s dumbbell with a 20 ms RTT and a
/// 166-packet FIFO for 60 s of simulated time. Wall time of the event loop (cold: the first run in the process; then
/// steady state), events and data packets per wall-clock second, and peak memory. Run: <c>dotnet run -c Release --project Bench -- scenario [flows...] [--cc NAME] [--seconds S] [--object PATH.bpf.o]... [--no-jit]</c> (<c>--no-jit</c>: the objects in the interpreter).
/// </summary>
/// <remarks>
/// <c>--object</c> loads a clang-built BPF object into every run's kernel and registers its struct_ops variables (as
/// <c>bpfsim structops register</c> does), so <c>--cc</c> can name the algorithm it defines, e.g.
/// <c>--object Programs/bpf/obj/bpf_cubic.bpf.o --cc bpf_cubic_c</c>; each run then also reports the programs'
/// calls and instructions per data packet. Every run prints a digest of its results (events, packets, and each
/// flow's bytes acked, segments sent and retransmissions), so runs that must agree can be compared.
/// </remarks>
public static class DumbbellScenarioBench
{
    public static void Run(string[] args)
    {
        if (args.Contains("--idle-memory"))
        {
            IdleMemory();
            return;
        }
        var flowCounts = args.Where((a, i) => int.TryParse(a, out _) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal)))
            .Select(int.Parse).ToList();
        if (flowCounts.Count == 0)
        {
            flowCounts = [1, 10, 100, 1000];
        }
        string cc = Option(args, "--cc") ?? "cubic";
        double seconds = double.Parse(Option(args, "--seconds") ?? "60", System.Globalization.CultureInfo.InvariantCulture);
        var objects = args.Select((a, i) => (a, i)).Where(x => x.a == "--object" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToList();
        bool jit = !args.Contains("--no-jit");
        // The first run in a process includes the runtime's tiered compilation (its code starts unoptimised and
        // is replaced while it runs): reported on its own as the cold figure a one-shot `bpfsim run` sees. The
        // table is steady state, after it.
        var cold = RunOnce(flowCounts[0], cc, seconds, objects, jit);
        Console.WriteLine($"cold (first run in the process, JIT tiering included): {flowCounts[0]} flows, event loop {cold.WallS:0.000} s, " +
                          $"{cold.DataPackets / cold.WallS / 1e6:0.00} M data pkts/s");
        var notes = new List<string> { Notes(flowCounts[0], "cold", cold) };
        Console.WriteLine();
        Console.WriteLine($"| flows | cc | sim s | event loop wall s | events | events/s | data pkts | data pkts/s | B alloc/pkt | utilization | Jain | peak MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in flowCounts)
        {
            var r = RunOnce(n, cc, seconds, objects, jit);
            notes.Add(Notes(n, "steady", r));
            Console.WriteLine($"| {n} | {cc} | {seconds} | {r.WallS:0.000} | {r.Events:N0} | {r.Events / r.WallS / 1e6:0.00} M | {r.DataPackets:N0} | " +
                              $"{r.DataPackets / r.WallS / 1e6:0.00} M | {r.AllocatedBytes / (double)r.DataPackets:0.00} | {r.Utilization:0.000} | {r.Jain:0.000} | {r.PeakMb:0} |");
        }
        Console.WriteLine();
        foreach (string note in notes)
        {
            Console.WriteLine(note);
        }
    }

    private static string Notes(int flows, string run, Result r)
    {
        string note = $"{flows} flows ({run}): digest {r.Digest}";
        if (r.Programs is { } p)
        {
            note += $"; BPF programs: {p.Runs:N0} calls, {p.Instructions:N0} instructions, {p.Runs / (double)r.DataPackets:0.00} calls and " +
                    $"{p.Instructions / (double)r.DataPackets:0.0} instructions per data packet, {p.Instructions / (double)p.Runs:0.0} per call";
        }
        return note;
    }

    /// <summary>Bytes per idle flow: 10,000 connections opened on a dumbbell (with their access links), none started.</summary>
    private static void IdleMemory()
    {
        const int flows = 10_000;
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        var bpf = services.GetRequiredService<BpfSimFactory>().Create();
        var type = (TcpCongestionOpsType)bpf.FindStructOpsType(TcpCongestionOpsType.TypeName)!;
        var net = new Network(bpf.Simulator, seed: 1);
        var bell = new Dumbbell(net, new DumbbellOptions());
        var stack = new TcpStack(net, type.Registry, bpf: bpf);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < flows; i++)
        {
            stack.Open((s, r) => bell.AddFlow(s, r), "cubic", SimTime.FromSeconds(1000), out _).ThrowIfFailed();
        }
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"{flows} idle flows: {(after - before) / (double)flows:0} bytes per flow (connection, sending and receiving sockets, four access links, routes, pending start event)");
        GC.KeepAlive(stack);
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed record Result(double WallS, long Events, long DataPackets, long AllocatedBytes, double Utilization, double Jain, double PeakMb,
        string Digest, ProgramCounts? Programs);

    /// <summary>Calls and instructions of the registered objects' programs over the event loop.</summary>
    private sealed record ProgramCounts(long Runs, long Instructions);

    private static Result RunOnce(int flows, string cc, double seconds, IReadOnlyList<string> objects, bool jit)
    {
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        var catalog = services.GetRequiredService<ConsumerCatalog>();
        var bpf = services.GetRequiredService<BpfSimFactory>().Create(new BpfSystemOptions { Jit = jit });
        foreach (string path in objects)
        {
            foreach (var info in ConsumerObjectLoader.LoadInto(catalog, path))
            {
                ConsumerLoading.Load(bpf, info, out var loaded).ThrowIfFailed();
                loaded!.Register().ThrowIfFailed();
            }
        }
        var programs = ConsumerLoading.Objects(bpf).SelectMany(o => o.Programs.Values).ToList();
        var (net, bell, stack) = BenchDumbbell.Build(bpf, flows, cc);
        GC.Collect();
        long before = bpf.Simulator.EventsDispatched;
        // Bytes allocated by the event loop itself: the per-packet path is meant to allocate nothing.
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long runsBefore = programs.Sum(p => p.RunCount), instructionsBefore = programs.Sum(p => p.InstructionsExecuted);
        var wall = Stopwatch.StartNew();
        bpf.Simulator.RunUntil(new SimTime((long)(seconds * 1e9)));
        wall.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var counts = programs.Count == 0 ? null
            : new ProgramCounts(programs.Sum(p => p.RunCount) - runsBefore, programs.Sum(p => p.InstructionsExecuted) - instructionsBefore);
        net.FinishAccounting();
        long events = bpf.Simulator.EventsDispatched - before;
        long data = bell.Bottleneck.Stats.PacketsSent;
        var goodputs = stack.Connections.Select(c => (double)c.Stats.BytesAcked).ToList();
        double util = bell.Bottleneck.Stats.Utilization(bpf.Simulator.Now.Nanoseconds);
        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;
        if (stack.Connections.FirstOrDefault(c => c.Ops.Name != cc) is { } other)
        {
            throw new InvalidOperationException($"flow {other.Id} ran {other.Ops.Name}, not {cc} (a fault or a fallback)");
        }
        return new Result(wall.Elapsed.TotalSeconds, events, data, allocated, util, BpfSim.Tcp.Metrics.Fairness.Jain(goodputs), peak,
            Digest(events, data, stack), counts);
    }

    /// <summary>Events, data packets, and a hash of every flow's bytes acked, segments sent and retransmissions.</summary>
    private static string Digest(long events, long data, TcpStack stack)
    {
        ulong hash = 14695981039346656037;
        foreach (var c in stack.Connections)
        {
            foreach (long v in new[] { c.Stats.BytesAcked, c.Stats.SegmentsSent, c.Stats.Retransmits })
            {
                hash = (hash ^ (ulong)v) * 1099511628211;
            }
        }
        return $"{events}/{data}/{hash:x16}";
    }
}
