using System.Diagnostics;
using System.Runtime.InteropServices;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Programs;
using BpfSim.Studies.Traces;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Scenarios;

/// <summary>
/// What a full per-event trace (<c>--trace</c>: every ACK, send, drop and congestion-control call) costs on the
/// whole-scenario benchmark's 10-flow dumbbell (100 Mbit/s, 20 ms RTT, 166-packet FIFO, 60 s): runs alternate
/// untraced and traced, after one cold run of each, and each reports wall and thread CPU time of the event loop (the
/// traced one including writing its files and flushing them at the end). Run:
/// <c>dotnet run -c Release --project Bench -- trace [--pairs N] [--seconds S] [--flows F] [--dir DIR] [--hooks-only]</c>
/// (<c>--hooks-only</c>: a tracer that discards everything, the cost of the call points alone).
/// </summary>
public static class TraceOverheadBench
{
    public static void Run(string[] args)
    {
        int pairs = int.Parse(Option(args, "--pairs") ?? "5", System.Globalization.CultureInfo.InvariantCulture);
        int flows = int.Parse(Option(args, "--flows") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
        double seconds = double.Parse(Option(args, "--seconds") ?? "60", System.Globalization.CultureInfo.InvariantCulture);
        string root = Option(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "bpfsim-trace-bench");
        s_hooksOnly = args.Contains("--hooks-only");
        // Cold runs first (JIT tiering), not in the table.
        RunOnce(flows, seconds, null);
        RunOnce(flows, seconds, Path.Combine(root, "cold"));
        Console.WriteLine($"| run | untraced wall s | untraced CPU s | traced wall s | traced CPU s | CPU ratio | wall ratio | records | trace MB | digests equal |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var ratios = new List<double>();
        var untracedCpu = new List<double>();
        var tracedCpu = new List<double>();
        for (int i = 1; i <= pairs; i++)
        {
            var plain = RunOnce(flows, seconds, null);
            var traced = RunOnce(flows, seconds, Path.Combine(root, $"run{i}"));
            ratios.Add(traced.CpuS / plain.CpuS);
            untracedCpu.Add(plain.CpuS);
            tracedCpu.Add(traced.CpuS);
            Console.WriteLine($"| {i} | {plain.WallS:0.000} | {plain.CpuS:0.000} | {traced.WallS:0.000} | {traced.CpuS:0.000} | {traced.CpuS / plain.CpuS:0.00} | " +
                              $"{traced.WallS / plain.WallS:0.00} | {traced.Records:N0} | {traced.Bytes / 1e6:0.0} | {plain.Digest == traced.Digest} |");
        }
        Directory.Delete(root, recursive: true);
        Console.WriteLine();
        Console.WriteLine($"best CPU: untraced {untracedCpu.Min():0.000} s, traced {tracedCpu.Min():0.000} s, ratio of bests {tracedCpu.Min() / untracedCpu.Min():0.00}; " +
                          $"median of per-pair CPU ratios {ratios.Order().ElementAt(ratios.Count / 2):0.00}");
    }

    // --hooks-only: the "traced" runs get a tracer that discards every call, which measures the call points alone.
    private static bool s_hooksOnly;

    private sealed record Result(double WallS, double CpuS, long Records, long Bytes, string Digest);

    private static Result RunOnce(int flows, double seconds, string? traceDirectory)
    {
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        var bpf = services.GetRequiredService<BpfSimFactory>().Create();
        var (net, _, stack) = BenchDumbbell.Build(bpf, flows, "cubic");
        TcpTraceWriter? writer = null;
        if (traceDirectory is not null)
        {
            if (Directory.Exists(traceDirectory))
            {
                Directory.Delete(traceDirectory, recursive: true);
            }
            if (s_hooksOnly)
            {
                stack.Tracer = NullTracer.Instance;
                net.Tracer = NullTracer.Instance;
                Directory.CreateDirectory(traceDirectory);
            }
            else
            {
                writer = new TcpTraceWriter(traceDirectory);
                writer.Attach(bpf, net, stack);
            }
        }
        GC.Collect();
        double cpu = ThreadCpuSeconds();
        var wall = Stopwatch.StartNew();
        bpf.Simulator.RunUntil(new SimTime((long)(seconds * 1e9)));
        writer?.Finish(bpf.Simulator.Now);
        wall.Stop();
        cpu = ThreadCpuSeconds() - cpu;
        long bytes = traceDirectory is null ? 0 : Directory.GetFiles(traceDirectory).Sum(f => new FileInfo(f).Length);
        ulong hash = 14695981039346656037;
        foreach (var c in stack.Connections)
        {
            foreach (long v in new[] { c.Stats.BytesAcked, c.Stats.SegmentsSent, c.Stats.Retransmits })
            {
                hash = (hash ^ (ulong)v) * 1099511628211;
            }
        }
        return new Result(wall.Elapsed.TotalSeconds, cpu, writer?.Records ?? 0, bytes, $"{bpf.Simulator.EventsDispatched}/{hash:x16}");
    }

    private sealed class NullTracer : BpfSim.Tcp.Tracing.ITcpTracer
    {
        public static readonly NullTracer Instance = new();
        public void Ack(long timeNs, int flow, uint ackSeq, in TcpSock sk, in RateSample rs) { }
        public void Send(long timeNs, int flow, uint seq, uint endSeq, BpfSim.Tcp.Tracing.TcpSendFlags flags, in TcpSock sk) { }
        public void Queue(long timeNs, Link link, in Packet packet, BpfSim.Tcp.Tracing.TcpQueueEvent what) { }
        public void CaCall(long timeNs, in TcpSock sk, in BpfSim.Tcp.Tracing.TcpCaCall call, in BpfSim.Tcp.Tracing.TcpCaSnapshot before) { }
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>This thread's CPU time (CLOCK_THREAD_CPUTIME_ID), user and system: the trace's writes are this thread's syscalls.</summary>
    private static double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        }
        _ = ClockGetTime(3, out var ts);
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
}
