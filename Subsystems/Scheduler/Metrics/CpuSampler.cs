using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Scheduler.Metrics;

/// <summary>Samples each CPU every interval: the fraction of the interval it ran tasks, and its runqueue length.</summary>
public sealed class CpuSampler : IEventHandler
{
    private readonly SchedKernel _kernel;
    private readonly long _interval;
    private readonly long[] _lastBusy;
    private readonly HandlerId _handler;
    private readonly List<CpuSample> _samples = [];
    private long _lastTime;

    public CpuSampler(SchedKernel kernel, SimTime interval)
    {
        _kernel = kernel;
        _interval = interval.Nanoseconds;
        _lastBusy = new long[kernel.NrCpus];
        _handler = kernel.Simulator.Register(this);
    }

    public IReadOnlyList<CpuSample> Samples => _samples;

    /// <summary>Takes the first sample one interval from now (no sampling if the interval is not positive).</summary>
    public void Start()
    {
        _lastTime = _kernel.NowNs;
        if (_interval > 0)
        {
            _kernel.Simulator.Schedule(new SimTime(_lastTime + _interval), _handler, 0);
        }
    }

    public void OnEvent(int kind, long arg)
    {
        _kernel.UpdateAccounting();
        long now = _kernel.NowNs;
        double span = now - _lastTime;
        for (int cpu = 0; cpu < _lastBusy.Length; cpu++)
        {
            long busy = _kernel.Metrics.CpuBusy(cpu);
            _samples.Add(new CpuSample(now, cpu, span > 0 ? (busy - _lastBusy[cpu]) / span : 0, _kernel.NrRunning(cpu)));
            _lastBusy[cpu] = busy;
        }
        _lastTime = now;
        _kernel.Simulator.Schedule(new SimTime(now + _interval), _handler, 0);
    }
}
