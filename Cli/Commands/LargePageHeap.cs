using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim run --large-pages</c> (and <c>sweep</c>'s): the run in a child process whose managed heap lives on the
/// huge pages the administrator reserved (<c>vm.nr_hugepages</c>, hugetlbfs). From a few thousand flows or tasks on,
/// each event's state is a handful of lines scattered over 100 MB or more, and on 4 KiB pages nearly every one of those
/// loads also misses the TLB; on 2 MiB pages the whole heap is within the TLB's reach (docs/performance.md, "Huge
/// pages"). The .NET runtime reads its heap settings only at start-up, hence the child: the same arguments, with
/// <c>DOTNET_GCLargePages</c>, a heap limit sized from the run's memory estimate (the runtime maps the whole limit at
/// start) and <see cref="MarkerVariable"/> so that the child runs the scenario itself.
/// </summary>
public static class LargePageHeap
{
    /// <summary>Set in the child to its heap limit in bytes: the run is already on huge pages.</summary>
    public const string MarkerVariable = "BPFSIM_LARGE_PAGES_HEAP";

    /// <summary>The smallest heap a child gets, whatever the estimate (the runtime's own start-up needs some).</summary>
    public const long MinimumHeapBytes = 256L << 20;

    /// <summary>
    /// The heap limit this process runs under, when it is a <c>--large-pages</c> child: the marker set and the runtime
    /// holding to that limit (a marker left in a user's environment alone does not count).
    /// </summary>
    public static long? ActiveLimit =>
        long.TryParse(Environment.GetEnvironmentVariable(MarkerVariable), NumberStyles.None, CultureInfo.InvariantCulture,
            out long b) && GC.GetGCMemoryInfo().TotalAvailableMemoryBytes == b ? b : null;

    /// <summary>
    /// Reads the huge page pool from <c>/proc/meminfo</c>'s text: its size (HugePages_Total), the pages no process has
    /// (HugePages_Free less HugePages_Rsvd: a page another process has mapped but not touched yet counts as free but is
    /// promised to it; Documentation/admin-guide/mm/hugetlbpage.rst) and the page size. False when one is missing (a
    /// kernel without hugetlbfs).
    /// </summary>
    public static bool TryReadMeminfo(string text, out long totalPages, out long freePages, out long pageBytes)
    {
        totalPages = -1;
        freePages = -1;
        pageBytes = -1;
        long reserved = -1;
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                switch (fields[0])
                {
                    case "HugePages_Total:":
                        totalPages = value;
                        break;
                    case "HugePages_Free:":
                        freePages = value;
                        break;
                    case "HugePages_Rsvd:":
                        reserved = value;
                        break;
                    case "Hugepagesize:" when fields.Length >= 3 && fields[2] == "kB":
                        pageBytes = value * 1024;
                        break;
                }
            }
        }
        if (freePages >= 0 && reserved >= 0)
        {
            freePages = Math.Max(0, freePages - reserved);
        }
        else
        {
            freePages = -1;
        }
        return totalPages >= 0 && freePages >= 0 && pageBytes > 0;
    }

    /// <summary>
    /// The child's heap limit: twice the run's memory estimate (at least <see cref="MinimumHeapBytes"/>) in whole
    /// huge pages, or all the free ones when fewer are free but they still hold the estimate within the run's budget
    /// (a run may use 3/4 of its heap, as of the machine's memory without this option). Null, with the reason, when
    /// the free pages cannot hold the run; the reason names a <c>vm.nr_hugepages</c> that would give it twice its
    /// estimate with the pages in use (<paramref name="totalPages"/> − <paramref name="freePages"/>) left to their owners.
    /// </summary>
    public static long? PlanLimit(double estimateBytes, long totalPages, long freePages, long pageBytes, out string? error,
        string what = "this run")
    {
        error = null;
        long wanted = Pages(Math.Max(2 * estimateBytes, MinimumHeapBytes), pageBytes);
        long needed = NeededPages(estimateBytes, pageBytes);
        if (freePages >= wanted)
        {
            return wanted * pageBytes;
        }
        if (freePages >= needed)
        {
            return freePages * pageBytes;
        }
        error = $"{what} needs at least {needed:N0} free huge pages of {pageBytes >> 20} MiB and {freePages:N0} are free " +
                $"(its memory estimate is {WorkEstimate.Bytes(estimateBytes)}; it runs on {wanted:N0} pages, twice that, when " +
                $"they are free); reserve them first, e.g. 'sudo sysctl vm.nr_hugepages={totalPages - freePages + wanted}' " +
                "(docs/performance.md, \"Huge pages\")";
        return null;
    }

    /// <summary>
    /// What <c>validate</c> says of <c>--large-pages</c> for a run with this memory estimate, on a machine with a huge
    /// page pool (null without one: most machines, where the line would only be noise).
    /// </summary>
    public static string? Describe(double estimateBytes, long totalPages, long freePages, long pageBytes)
    {
        if (totalPages <= 0)
        {
            return null;
        }
        string pool = $"{freePages:N0} of {totalPages:N0} free";
        return PlanLimit(estimateBytes, totalPages, freePages, pageBytes, out _) is { } limit
            ? $"large pages: --large-pages would run it on {limit / pageBytes:N0} huge pages of {pageBytes >> 20} MiB ({pool})"
            : $"large pages: --large-pages needs at least {NeededPages(estimateBytes, pageBytes):N0} free huge pages of " +
              $"{pageBytes >> 20} MiB ({pool})";
    }

    /// <summary>The fewest pages that hold a run of this estimate within its budget (and the minimum heap).</summary>
    private static long NeededPages(double estimateBytes, long pageBytes) =>
        Pages(Math.Max(estimateBytes / WorkEstimate.BudgetFraction, MinimumHeapBytes), pageBytes);

    private static long Pages(double bytes, long pageBytes) => (long)Math.Ceiling(bytes / pageBytes);

    /// <summary>The same, from this machine's /proc/meminfo (null off Linux or when it cannot be read).</summary>
    public static string? Describe(double estimateBytes, string meminfoPath = "/proc/meminfo")
    {
        try
        {
            return OperatingSystem.IsLinux() && TryReadMeminfo(File.ReadAllText(meminfoPath), out long total, out long free, out long page)
                ? Describe(estimateBytes, total, free, page)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="args"/> again in a child process on a heap of huge pages and returns its exit code; the
    /// child shares this process's terminal (progress, colours, Ctrl-C). Exit code 2 with a message when the machine
    /// has no huge pages to give.
    /// </summary>
    /// <param name="what">What the refusal calls the work ("this run", "this sweep (2 runs at once)").</param>
    public static int Relaunch(IReadOnlyList<string> args, double estimateBytes, TextWriter stderr, string what = "this run",
        string meminfoPath = "/proc/meminfo")
    {
        if (!OperatingSystem.IsLinux())
        {
            stderr.WriteLine("bpfsim: --large-pages: Linux only (the heap is mapped from the huge pages of vm.nr_hugepages)");
            return ExitCodes.BadInput;
        }
        string text;
        try
        {
            text = File.ReadAllText(meminfoPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"bpfsim: --large-pages: cannot read {meminfoPath}: {e.Message}");
            return ExitCodes.BadInput;
        }
        if (!TryReadMeminfo(text, out long total, out long free, out long pageBytes))
        {
            stderr.WriteLine($"bpfsim: --large-pages: {meminfoPath} shows no huge page pool (HugePages_Total, _Free, _Rsvd, " +
                             "Hugepagesize): this kernel has no hugetlbfs");
            return ExitCodes.BadInput;
        }
        if (PlanLimit(estimateBytes, total, free, pageBytes, out var error, what) is not { } limit)
        {
            stderr.WriteLine($"bpfsim: --large-pages: {error}");
            return ExitCodes.BadInput;
        }
        using var child = Process.Start(ChildStart(args, limit))!;
        // Ctrl-C from a terminal reaches the child too (one process group); a signal sent to this process alone (kill,
        // timeout) must not leave the child running. Either way the child ends, and so does this process.
        bool interrupted = false;
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupted = true;
            try
            {
                child.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop))
        {
            child.WaitForExit();
        }
        if (interrupted)
        {
            return 128 + 2; // as a shell reports a command ended by SIGINT
        }
        int code = child.ExitCode;
        if (code is not (ExitCodes.Success or ExitCodes.SimulationFailed or ExitCodes.BadInput or ExitCodes.CompletedWithFault))
        {
            // The runtime itself failed: most often it could not map the heap because the pages went to another process.
            stderr.WriteLine($"bpfsim: --large-pages: the run's process ended with exit code {code}; if the runtime could " +
                             $"not map its {WorkEstimate.Bytes(limit)} heap, check HugePages_Free in {meminfoPath}");
            return ExitCodes.SimulationFailed;
        }
        return code;
    }

    private static ProcessStartInfo ChildStart(IReadOnlyList<string> args, long limit)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(LargePageHeap).Assembly.Location); // started as 'dotnet bpfsim.dll'
        }
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        string hex = "0x" + limit.ToString("x", CultureInfo.InvariantCulture);
        start.Environment["DOTNET_GCLargePages"] = "1";
        start.Environment["DOTNET_GCHeapHardLimit"] = hex;
        start.Environment["DOTNET_GCRegionRange"] = hex; // else the runtime maps twice the limit
        start.Environment[MarkerVariable] = limit.ToString(CultureInfo.InvariantCulture);
        return start;
    }
}
