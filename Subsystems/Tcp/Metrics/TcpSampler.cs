using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Metrics;

/// <summary>
/// Samples the congestion state of the first <see cref="FlowLimit"/> connections (by id) and every watched link's
/// queue at a fixed interval into one row per sample, to be formatted after the run.
/// </summary>
public sealed class TcpSampler : IEventHandler
{
    // The get_info fields an algorithm here can report: no built-in algorithm answers with tcpvegas_info and BPF ones
    // cannot implement get_info, so vegas_* would be empty columns.
    private static readonly TcpCcInfo.Field[] CcInfoFields = [.. TcpCcInfo.Fields.Where(f => f.Attr != TcpCcInfo.InetDiagVegasInfo)];

    /// <summary>
    /// The per-flow metrics, in column order, with their units: the socket's state, then what the algorithm's
    /// get_info reports to <c>ss -i</c> (<see cref="TcpCcInfo.Fields"/> but vegas_*; only for algorithms that have it).
    /// </summary>
    public static readonly (string Name, string Unit)[] FlowMetrics =
    [
        ("cwnd", "packets"), ("cwnd_bytes", "bytes"), ("ssthresh", "packets"), ("srtt", "ms"), ("pacing_rate", "Mbps"),
        ("inflight", "packets"), ("ca_state", "state"), ("goodput", "Mbps"), ("delivery_rate", "Mbps"),
        .. CcInfoFields.Select(f => (f.Name, f.Unit)),
    ];

    private static readonly int CcInfoColumn = FlowMetrics.Length - CcInfoFields.Length;

    /// <summary>The per-link metrics, in column order, with their units.</summary>
    public static readonly (string Name, string Unit)[] LinkMetrics = [("queue", "packets"), ("ecn_marks", "count"), ("drops", "count")];

    private readonly Simulator _sim;
    private readonly TcpStack _stack;
    private readonly IReadOnlyList<Link> _links;
    private readonly SimTime _interval;
    private readonly int _flowLimit;
    private readonly HandlerId _handler;
    private readonly List<double> _times = [];
    private readonly List<float[]> _flowRows = [];
    private readonly List<float[]> _linkRows = [];
    private long[] _lastAcked = [];

    /// <param name="flowLimit">The connections sampled: the first this many by id (all by default).</param>
    /// <exception cref="ArgumentOutOfRangeException">The interval is not positive or the limit is negative.</exception>
    public TcpSampler(Simulator sim, TcpStack stack, IReadOnlyList<Link> links, SimTime interval, int flowLimit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(interval.Nanoseconds, nameof(interval));
        ArgumentOutOfRangeException.ThrowIfNegative(flowLimit);
        _sim = sim;
        _stack = stack;
        _links = links;
        _interval = interval;
        _flowLimit = flowLimit;
        _handler = sim.Register(this);
    }

    public SimTime Interval => _interval;

    /// <summary>How many connections (the first, by id) are sampled; later ones have no time series.</summary>
    public int FlowLimit => _flowLimit;

    /// <summary>Samples taken so far.</summary>
    public int Count => _times.Count;

    /// <summary>Starts sampling at <paramref name="at"/> and every interval after.</summary>
    public void Start(SimTime at) => _sim.Schedule(at, _handler, 0);

    void IEventHandler.OnEvent(int kind, long arg)
    {
        var conns = _stack.Connections;
        int sampled = Math.Min(conns.Count, _flowLimit);
        int flowMetrics = FlowMetrics.Length;
        if (_lastAcked.Length < sampled)
        {
            Array.Resize(ref _lastAcked, sampled);
        }
        var flows = new float[sampled * flowMetrics];
        double seconds = _interval.TotalSeconds;
        Span<byte> info = stackalloc byte[TcpCcInfo.UnionSize];
        for (int i = 0; i < sampled; i++)
        {
            ref var sk = ref _stack.Sock(i);
            var c = conns[i];
            int o = i * flowMetrics;
            bool open = c.State == TcpConnectionState.Established;
            flows[o] = open ? sk.SndCwnd : float.NaN;
            flows[o + 1] = open ? (float)sk.SndCwnd * sk.MssCache : float.NaN;
            flows[o + 2] = open && sk.SndSsthresh < TcpSock.InfiniteSsthresh ? sk.SndSsthresh : float.NaN;
            flows[o + 3] = open ? (sk.SrttUs >> 3) / 1000f : float.NaN;
            flows[o + 4] = open && sk.SkPacingRate != ulong.MaxValue ? sk.SkPacingRate * 8 / 1e6f : float.NaN; // ~0UL: unlimited, not set yet
            flows[o + 5] = open ? sk.PacketsInFlight : float.NaN;
            flows[o + 6] = open ? (float)sk.IcskCaState : float.NaN;
            flows[o + 7] = (float)((c.Stats.BytesAcked - _lastAcked[i]) * 8 / seconds / 1e6);
            flows[o + 8] = open ? (float)(c.DeliveryRateBps / 1e6) : float.NaN;
            _lastAcked[i] = c.Stats.BytesAcked;
            int size = _stack.GetCcInfo(i, TcpCcInfo.SsExtensions, info, out int attr);
            for (int f = 0; f < CcInfoFields.Length; f++)
            {
                var field = CcInfoFields[f];
                flows[o + CcInfoColumn + f] = size > 0 && attr == field.Attr ? (float)field.Read(info) : float.NaN;
            }
        }
        var links = new float[_links.Count * LinkMetrics.Length];
        for (int l = 0; l < _links.Count; l++)
        {
            links[l * 3] = _links[l].Queue.Length;
            links[l * 3 + 1] = _links[l].Stats.EcnMarks;
            links[l * 3 + 2] = _links[l].Stats.QueueDrops;
        }
        _times.Add(_sim.Now.TotalSeconds);
        _flowRows.Add(flows);
        _linkRows.Add(links);
        _sim.ScheduleIn(_interval, _handler, 0);
    }

    /// <summary>The samples as tidy rows: per flow (subject = flow id) and per link (subject = link name).</summary>
    public IEnumerable<TimeSeriesPoint> Points()
    {
        for (int s = 0; s < _times.Count; s++)
        {
            var flows = _flowRows[s];
            for (int i = 0; i < flows.Length / FlowMetrics.Length; i++)
            {
                for (int m = 0; m < FlowMetrics.Length; m++)
                {
                    float v = flows[i * FlowMetrics.Length + m];
                    if (!float.IsNaN(v))
                    {
                        yield return new TimeSeriesPoint(_times[s], (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                            FlowMetrics[m].Name, v, FlowMetrics[m].Unit);
                    }
                }
            }
            var links = _linkRows[s];
            for (int l = 0; l < _links.Count; l++)
            {
                for (int m = 0; m < LinkMetrics.Length; m++)
                {
                    yield return new TimeSeriesPoint(_times[s], _links[l].Name, LinkMetrics[m].Name, links[l * LinkMetrics.Length + m], LinkMetrics[m].Unit);
                }
            }
        }
    }

    /// <summary>One metric of one flow (id from 0) over time.</summary>
    public IEnumerable<(double T, double Value)> Flow(int id, string metric)
    {
        int m = Array.FindIndex(FlowMetrics, f => f.Name == metric);
        if (m < 0)
        {
            throw new ArgumentException($"unknown flow metric '{metric}'", nameof(metric));
        }
        for (int s = 0; s < _times.Count; s++)
        {
            var row = _flowRows[s];
            if (id * FlowMetrics.Length + m < row.Length && !float.IsNaN(row[id * FlowMetrics.Length + m]))
            {
                yield return (_times[s], row[id * FlowMetrics.Length + m]);
            }
        }
    }
}
