namespace BpfSim.Studies.Sweeps;

/// <summary>Counts finished runs for a sweep's progress display, one report at a time whatever thread finished.</summary>
internal sealed class SweepProgress(int total, int done, int failed, Action<int, int, int>? report)
{
    private readonly Lock _lock = new();
    private int _done = done;
    private int _failed = failed;

    public void Finished(bool completed)
    {
        lock (_lock)
        {
            _done++;
            _failed += completed ? 0 : 1;
            report?.Invoke(_done, total, _failed);
        }
    }

    public void Report()
    {
        lock (_lock)
        {
            report?.Invoke(_done, total, _failed);
        }
    }
}
