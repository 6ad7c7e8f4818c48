using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BpfSim.Core.Metrics;

namespace BpfSim.Scheduler.Metrics;

/// <summary>
/// What the kernel counts as it schedules (the schedstats and task_struct counters a run reports): per task runtime
/// (sum_exec_runtime), voluntary and involuntary switches (nvcsw, nivcsw), migrations (nr_migrations), wakeups and
/// the wait from runnable to running; per CPU busy time, switches and ticks; the per-CPU timeline. Arrays indexed
/// by task id and CPU, grown only at fork: recording allocates nothing.
/// </summary>
public sealed class SchedMetrics
{
    // One record per task, so an event touches one cache line of it (10,000 tasks: scattered arrays cost misses).
    // The counts of switches, migrations and wake-ups are 32-bit to keep the record at 56 bytes (2^31 of them for
    // one task is beyond any run's length).
    private struct TaskCounters
    {
        public LogLinearHistogram? Waits; // a histogram of the caller's (a group's) or one this task outgrew its window into; null: the window
        public long Runtime;
        public long RunnableSince;
        public double WaitSum;
        public long WaitMax;
        public int Nvcsw;
        public int Nivcsw;
        public int Migrations;
        public int Wakeups;
    }

    // A task's own waits are counted in its window of the wait buckets, the first WaitWindow buckets of
    // LogLinearHistogram (values below 2^31 ns), with their sum and maximum in its record: recording a wait at each
    // switch-in then touches the record and one bucket, not a histogram object, its array's header and the bucket
    // (three dependent cache misses for a task not in cache, a fifth of a 10,000-task run). The windows of 64 tasks
    // share one array. Waits(id) makes the histogram; a longer wait moves the task to a histogram object, and so does
    // a bucket's 65,536th wait: the counts are 16-bit, which halves the window (1.7 KB a task, the largest part of a
    // task's memory) where a task rarely waits 65,535 times in one bucket.
    private const int WaitWindowShift = 6;
    private static readonly int WaitWindow = LogLinearHistogram.BucketIndex(1L << 31) + 1;
    private ushort[][] _waitWindows = [];

    // The window increments not yet made, made 32 at a time: each is likely a cache miss (a task's waits spread over
    // a few dozen lines of its window), and 32 independent increments in a row overlap their misses where one per
    // switch, among the switch's other misses, waits for its own. The counts are integers: the order is immaterial.
    private const int PendingWaits = 32;
    private readonly int[] _pendingTask = new int[PendingWaits];
    private readonly int[] _pendingBucket = new int[PendingWaits];
    private int _pending;

    private TaskCounters[] _tasks = new TaskCounters[64];
    private readonly long[] _cpuBusy;
    private readonly long[] _cpuSwitches;
    private readonly long[] _cpuTicks;
    private readonly long[] _cpuIdle;
    private readonly long[] _segStart;
    private readonly int[] _segTask;
    private readonly byte[] _segClass;
    private readonly List<TimelineSegment> _timeline;
    private readonly int _timelineLimit;
    private int[] _taskGroup = new int[64];
    private long _keepFrom = long.MaxValue, _keepTo = long.MinValue;
    private int _keptInWindow;

    /// <summary>Segments kept past the limit for <see cref="KeepWindow"/>'s window at most.</summary>
    public const int MaxWindowSegments = 50_000;

    /// <param name="timelineLimit">Segments kept; later ones are only counted (<see cref="TimelineDropped"/>).</param>
    public SchedMetrics(int cpus, int timelineLimit)
    {
        _cpuBusy = new long[cpus];
        _cpuSwitches = new long[cpus];
        _cpuTicks = new long[cpus];
        _cpuIdle = new long[cpus];
        _segStart = new long[cpus];
        _segTask = new int[cpus];
        _segClass = new byte[cpus];
        Array.Fill(_segTask, -1);
        _timelineLimit = Math.Max(0, timelineLimit);
        _timeline = new List<TimelineSegment>(Math.Min(_timelineLimit, 1 << 16));
    }

    /// <summary>Context switches of the whole machine.</summary>
    public long Switches { get; private set; }

    /// <summary>Wake-ups (try_to_wake_up that woke a task, and new tasks' first wake-up).</summary>
    public long Wakeups { get; private set; }

    /// <summary>Ticks delivered on all CPUs.</summary>
    public long Ticks { get; private set; }

    public long Migrations { get; private set; }

    /// <summary>Timeline segments not kept once the limit was reached.</summary>
    public long TimelineDropped { get; private set; }

    public IReadOnlyList<TimelineSegment> Timeline => _timeline;

    /// <summary>The whole run's timeline at a fixed resolution, holding the segments not kept; null until <see cref="StartOverview"/>.</summary>
    public TimelineOverview? Overview { get; private set; }

    /// <summary>
    /// From now on the segments not kept (past the timeline limit) go into an overview of [0, <paramref name="endNs"/>)
    /// by task group (<see cref="SetTaskGroup"/>); nothing happens with a limit of 0, which asks for no timeline.
    /// </summary>
    public void StartOverview(long endNs, IReadOnlyList<string> groups)
    {
        if (_timelineLimit > 0 && endNs > 0)
        {
            Overview = new TimelineOverview(_segStart.Length, endNs, groups);
        }
    }

    /// <summary>
    /// The segments overlapping [<paramref name="fromNs"/>, <paramref name="toNs"/>) are kept even past the limit (up to
    /// <see cref="MaxWindowSegments"/> more): the window the outputs show segment by segment, after the first scheduler's
    /// start, which a long run reaches long after its first segments filled the limit.
    /// </summary>
    public void KeepWindow(long fromNs, long toNs) => (_keepFrom, _keepTo) = (fromNs, toNs);

    /// <summary>Task <paramref name="id"/> belongs to task group <paramref name="group"/> (the overview's index; −1: none).</summary>
    public void SetTaskGroup(int id, int group) => _taskGroup[id] = group;

    /// <summary>
    /// Makes room for task <paramref name="id"/>; its waits go to <paramref name="waits"/> (its group's, or one of the
    /// caller's), or with null to a histogram of its own that <see cref="Waits"/> returns.
    /// </summary>
    public void AddTask(int id, LogLinearHistogram? waits)
    {
        FlushWaits(); // the pending waits of a task that had this id, before its record and window are cleared
        if (id >= _tasks.Length)
        {
            Array.Resize(ref _tasks, Math.Max(id + 1, _tasks.Length * 2));
            Array.Resize(ref _taskGroup, _tasks.Length);
        }
        _tasks[id] = new TaskCounters { Waits = waits, RunnableSince = -1 };
        _taskGroup[id] = -1;
        int chunk = id >> WaitWindowShift;
        if (chunk >= _waitWindows.Length)
        {
            Array.Resize(ref _waitWindows, Math.Max(chunk + 1, _waitWindows.Length * 2));
        }
        if (_waitWindows[chunk] == null)
        {
            _waitWindows[chunk] = new ushort[WaitWindow << WaitWindowShift];
        }
        else
        {
            WaitWindowOf(id).Clear();
        }
    }

    private Span<ushort> WaitWindowOf(int id) =>
        _waitWindows[id >> WaitWindowShift].AsSpan((id & ((1 << WaitWindowShift) - 1)) * WaitWindow, WaitWindow);

    /// <summary>Asks the caches for task <paramref name="id"/>'s record (a hint; changes nothing).</summary>
    public unsafe void PrefetchTask(int id)
    {
        if (Sse.IsSupported && (uint)id < (uint)_tasks.Length)
        {
            byte* t = (byte*)Unsafe.AsPointer(ref _tasks[id]);
            Sse.Prefetch0(t);
            Sse.Prefetch0(t + 55); // a 56-byte record may cross a line
        }
    }

    /// <summary>The task became runnable without running (woken, forked, preempted): its wait starts.</summary>
    public void Runnable(int id, long now) => _tasks[id].RunnableSince = now;

    /// <summary>The task became the current task of a CPU: its wait (if any) ends.</summary>
    public void Running(int id, long now)
    {
        ref var t = ref _tasks[id];
        if (t.RunnableSince < 0)
        {
            return;
        }
        long wait = now - t.RunnableSince;
        t.RunnableSince = -1;
        if (t.Waits == null)
        {
            // LogLinearHistogram.Record's steps on the window: a negative wait counts as 0.
            wait = Math.Max(0, wait);
            int b = LogLinearHistogram.BucketIndex(wait);
            if (b < WaitWindow)
            {
                if (_pending == PendingWaits)
                {
                    FlushWaits();
                }
                if (t.Waits == null) // else the flush filled one of its buckets and moved it to a histogram
                {
                    _pendingTask[_pending] = id;
                    _pendingBucket[_pending++] = b;
                    t.WaitSum += wait;
                    if (wait > t.WaitMax)
                    {
                        t.WaitMax = wait;
                    }
                    return;
                }
            }
            else
            {
                t.Waits = OwnWaits(id);
            }
        }
        t.Waits!.Record(wait);
    }

    /// <summary>Makes the pending window increments.</summary>
    private void FlushWaits()
    {
        for (int i = 0; i < _pending; i++)
        {
            int id = _pendingTask[i];
            if (id < 0)
            {
                continue; // moved to its histogram by OutgrowWindow
            }
            ref ushort count = ref _waitWindows[id >> WaitWindowShift][((id & ((1 << WaitWindowShift) - 1)) * WaitWindow) + _pendingBucket[i]];
            if (count == ushort.MaxValue)
            {
                OutgrowWindow(id, i);
                continue;
            }
            count++;
        }
        _pending = 0;
    }

    /// <summary>
    /// Pending wait <paramref name="index"/> of task <paramref name="id"/> would overflow its bucket in the window: the
    /// task moves to a histogram object with the window's counts, this wait and its later pending ones.
    /// </summary>
    private void OutgrowWindow(int id, int index)
    {
        ref var t = ref _tasks[id];
        var h = new LogLinearHistogram(0);
        h.AddCounts(WaitWindowOf(id), t.WaitSum, t.WaitMax); // the sum and maximum already count the pending waits
        for (int j = index; j < _pending; j++)
        {
            if (_pendingTask[j] == id)
            {
                h.AddRun(_pendingBucket[j], 1, 0, 0);
                _pendingTask[j] = -1;
            }
        }
        t.Waits = h;
    }

    /// <summary>The histogram of the waits task <paramref name="id"/> counted in its window.</summary>
    private LogLinearHistogram OwnWaits(int id)
    {
        FlushWaits();
        ref var t = ref _tasks[id];
        if (t.Waits != null)
        {
            return t.Waits; // the flush filled one of its buckets
        }
        var h = new LogLinearHistogram(0); // only the octaves the waits reached: a summary makes one per task
        h.AddCounts(WaitWindowOf(id), t.WaitSum, t.WaitMax);
        return h;
    }

    /// <summary>The task ran <paramref name="ns"/> on <paramref name="cpu"/> (update_curr).</summary>
    public void Ran(int id, int cpu, long ns)
    {
        _tasks[id].Runtime += ns;
        _cpuBusy[cpu] += ns;
    }

    public void Wakeup(int id)
    {
        _tasks[id].Wakeups++;
        Wakeups++;
    }

    public void Migration(int id)
    {
        _tasks[id].Migrations++;
        Migrations++;
    }

    public void Tick(int cpu)
    {
        _cpuTicks[cpu]++;
        Ticks++;
    }

    /// <summary>
    /// A context switch on <paramref name="cpu"/> from <paramref name="prev"/> to <paramref name="next"/> (−1 = idle);
    /// <paramref name="voluntary"/>: prev blocked (nvcsw) rather than being preempted (nivcsw).
    /// </summary>
    public void Switch(int cpu, int prev, int next, byte nextClass, bool voluntary, long now)
    {
        Switches++;
        _cpuSwitches[cpu]++;
        if (prev >= 0)
        {
            if (voluntary)
            {
                _tasks[prev].Nvcsw++;
            }
            else
            {
                _tasks[prev].Nivcsw++;
            }
        }
        CloseSegment(cpu, now);
        _segTask[cpu] = next;
        _segClass[cpu] = nextClass;
    }

    /// <summary>The task running on <paramref name="cpu"/> moved to class <paramref name="cls"/>: its segment splits there.</summary>
    public void ClassChanged(int cpu, byte cls, long now)
    {
        CloseSegment(cpu, now);
        _segClass[cpu] = cls;
    }

    /// <summary>Ends every CPU's open segment at <paramref name="now"/> (the end of the run).</summary>
    public void Finish(long now)
    {
        for (int cpu = 0; cpu < _segStart.Length; cpu++)
        {
            CloseSegment(cpu, now);
        }
    }

    private void CloseSegment(int cpu, long now)
    {
        long start = _segStart[cpu];
        _segStart[cpu] = now;
        if (now <= start)
        {
            return;
        }
        if (_segTask[cpu] < 0)
        {
            _cpuIdle[cpu] += now - start;
        }
        if (_timeline.Count < _timelineLimit)
        {
            _timeline.Add(new TimelineSegment(cpu, start, now, _segTask[cpu], _segClass[cpu]));
        }
        else if (_timelineLimit > 0 && now > _keepFrom && start < _keepTo && _keptInWindow < MaxWindowSegments)
        {
            _keptInWindow++;
            _timeline.Add(new TimelineSegment(cpu, start, now, _segTask[cpu], _segClass[cpu]));
        }
        else
        {
            TimelineDropped++;
            int task = _segTask[cpu];
            if (task >= 0)
            {
                Overview?.Add(cpu, start, now, _taskGroup[task]);
            }
        }
    }

    public long Runtime(int id) => _tasks[id].Runtime;

    public long VoluntarySwitches(int id) => _tasks[id].Nvcsw;

    public long InvoluntarySwitches(int id) => _tasks[id].Nivcsw;

    public long TaskMigrations(int id) => _tasks[id].Migrations;

    public long TaskWakeups(int id) => _tasks[id].Wakeups;

    /// <summary>The task's waits: the histogram it was given, or a copy of its own as of now.</summary>
    public LogLinearHistogram Waits(int id) => _tasks[id].Waits ?? OwnWaits(id);

    public long CpuBusy(int cpu) => _cpuBusy[cpu];

    public long CpuSwitches(int cpu) => _cpuSwitches[cpu];

    /// <summary>Time <paramref name="cpu"/> ran its idle task, from the timeline's idle segments (up to the last switch or <see cref="Finish"/>).</summary>
    public long CpuIdle(int cpu) => _cpuIdle[cpu];

    public long CpuTicks(int cpu) => _cpuTicks[cpu];
}
