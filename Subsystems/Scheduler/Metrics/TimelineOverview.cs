namespace BpfSim.Scheduler.Metrics;

/// <summary>
/// The per-CPU timeline of a whole run at a fixed resolution: for each CPU, column of the run and task group, how long
/// the group ran there. It takes the segments the run no longer keeps (past the scenario's <c>timeline_limit</c>), so
/// that the outputs' overview of a long run covers all of it, where the kept segments end early in the run; while
/// segments are kept it costs nothing.
/// </summary>
public sealed class TimelineOverview
{
    /// <summary>Columns over the run at most (report.html's overview draws 1000).</summary>
    public const int MaxColumns = 1000;

    /// <summary>CPUs × columns × slots at most (4 bytes each), so thousands of CPUs or groups get fewer columns, not gigabytes.</summary>
    public const int MaxCells = 1 << 23;

    private readonly float[] _ns; // [cpu, column, slot]

    /// <param name="cpus">The CPUs of the run.</param>
    /// <param name="endNs">The end of the run: the columns divide [0, endNs).</param>
    /// <param name="groups">The task groups' names, by group index; a slot after them takes tasks of no group.</param>
    public TimelineOverview(int cpus, long endNs, IReadOnlyList<string> groups)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cpus);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(endNs);
        ArgumentNullException.ThrowIfNull(groups);
        Cpus = cpus;
        EndNs = endNs;
        Groups = groups;
        Columns = (int)Math.Clamp(MaxCells / ((long)cpus * Slots), 1, MaxColumns);
        _ns = new float[cpus * Columns * Slots];
    }

    public int Cpus { get; }

    public int Columns { get; }

    public long EndNs { get; }

    /// <summary>The task groups by index; slot <see cref="Groups"/>.Count holds tasks of no group.</summary>
    public IReadOnlyList<string> Groups { get; }

    public int Slots => Groups.Count + 1;

    public double ColumnNs => EndNs / (double)Columns;

    /// <summary>Segments added.</summary>
    public long Segments { get; private set; }

    /// <summary>The earliest start of a segment added, or <see cref="long.MaxValue"/> before the first.</summary>
    public long FirstNs { get; private set; } = long.MaxValue;

    /// <summary>A task of group <paramref name="group"/> (−1: none) ran on <paramref name="cpu"/> from <paramref name="startNs"/> to <paramref name="endNs"/>.</summary>
    public void Add(int cpu, long startNs, long endNs, int group)
    {
        long from = Math.Max(startNs, 0), to = Math.Min(endNs, EndNs);
        if ((uint)cpu >= (uint)Cpus || to <= from)
        {
            return;
        }
        Segments++;
        FirstNs = Math.Min(FirstNs, from);
        int slot = group >= 0 && group < Groups.Count ? group : Groups.Count;
        double width = ColumnNs;
        int c0 = Math.Min((int)(from / width), Columns - 1), c1 = Math.Min((int)((to - 1) / width), Columns - 1);
        for (int c = c0; c <= c1; c++)
        {
            double lo = c * width, hi = lo + width;
            double overlap = Math.Min(to, hi) - Math.Max(from, lo);
            if (overlap > 0)
            {
                _ns[(((cpu * Columns) + c) * Slots) + slot] += (float)overlap;
            }
        }
    }

    /// <summary>How long tasks of slot <paramref name="slot"/> ran on <paramref name="cpu"/> in column <paramref name="column"/>, in ns.</summary>
    public double Ns(int cpu, int column, int slot) => _ns[(((cpu * Columns) + column) * Slots) + slot];
}
