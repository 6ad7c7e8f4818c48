using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Metrics;

/// <summary>
/// Takes the counters a window metric needs at the window's two edges: every watched link's busy time (or, for a
/// trace-driven link, the opportunity bytes its packets used), queue-length integral, arrivals and losses, and every
/// open connection's acknowledged bytes. A metric over the window is then
/// the difference of the two snapshots (a connection opened after the start counts from 0).
/// </summary>
public sealed class WindowMeter : IEventHandler
{
    private const int KindFrom = 0;
    private const int KindTo = 1;

    private readonly Simulator _sim;
    private readonly TcpStack _stack;
    private readonly IReadOnlyList<Link> _links;
    private readonly HandlerId _handler;
    private LinkSnapshot[]? _linksFrom;
    private LinkSnapshot[]? _linksTo;
    private long[] _ackedFrom = [];
    private long[]? _ackedTo;
    // Trace-driven links: the window holds the opportunities at whole milliseconds in [_fromCutMs, _toCutMs), those
    // its snapshots fall between (TraceCutMs).
    private long _fromCutMs;
    private long _toCutMs;

    /// <param name="window">The window; its edges at 0 and at the run's end need no event.</param>
    public WindowMeter(Simulator sim, TcpStack stack, IReadOnlyList<Link> links, MeasureWindow window)
    {
        _sim = sim;
        _stack = stack;
        _links = links;
        Window = window;
        _handler = sim.Register(this);
    }

    public MeasureWindow Window { get; }

    /// <summary>Schedules the snapshots: at the window's start (unless it is the run's start, where all counters are 0) and end.</summary>
    /// <param name="end">The end of the run: a window ending there is closed by <see cref="Finish"/> after the last event.</param>
    public void Start(SimTime end)
    {
        if (Window.From > SimTime.Zero)
        {
            _sim.Schedule(Window.From, _handler, KindFrom);
        }
        if (Window.To < end)
        {
            _sim.Schedule(Window.To, _handler, KindTo);
        }
    }

    /// <summary>Closes the window at the end of the run if its end snapshot was not taken yet.</summary>
    public void Finish()
    {
        if (_ackedTo is null)
        {
            Take(out _linksTo, out _ackedTo);
            // After the run's last event: every opportunity due up to now, at now too, has been played.
            _toCutMs = _sim.Now.Nanoseconds / 1_000_000 + 1;
        }
    }

    void IEventHandler.OnEvent(int kind, long arg)
    {
        if (kind == KindFrom)
        {
            Take(out _linksFrom, out _ackedFrom);
            _fromCutMs = TraceCutMs(_sim.Now.Nanoseconds);
            foreach (var link in _links)
            {
                link.RecordQueueDelay(); // queue_delay_ms: the packets sent inside the window
            }
        }
        else
        {
            Take(out _linksTo, out _ackedTo);
            _toCutMs = TraceCutMs(_sim.Now.Nanoseconds);
            foreach (var link in _links)
            {
                link.StopRecordingQueueDelay();
            }
        }
    }

    /// <summary>Bytes connection <paramref name="id"/> had acknowledged inside the window (0 for one opened after it).</summary>
    public long BytesAcked(int id)
    {
        var to = _ackedTo ?? throw new InvalidOperationException("the window is not closed yet");
        if (id >= to.Length)
        {
            return 0;
        }
        return to[id] - (id < _ackedFrom.Length ? _ackedFrom[id] : 0);
    }

    /// <summary>Link <paramref name="index"/>'s counters over the window (the end snapshot minus the start one).</summary>
    public LinkSnapshot Link(int index)
    {
        var to = (_linksTo ?? throw new InvalidOperationException("the window is not closed yet"))[index];
        return _linksFrom is null ? to : to - _linksFrom[index];
    }

    /// <summary>
    /// Link <paramref name="index"/>'s utilization over the window. A fixed-rate link: its busy time over the window's
    /// length. A trace-driven link, whose transmitter is never busy: the bytes its packets used (mm-link's IP + 4) of
    /// the bytes its trace's opportunities in the window offered, as <see cref="LinkStats.Utilization"/> takes it over
    /// the whole run and mm-throughput-graph reports it.
    /// </summary>
    public double Utilization(int index)
    {
        var w = Link(index);
        if (_links[index].Trace is not { } trace)
        {
            long windowNs = Math.Max(1, (Window.To - Window.From).Nanoseconds);
            return Math.Min(1.0, w.BusyNs / (double)windowNs);
        }
        long capacity = _toCutMs > _fromCutMs ? trace.OpportunitiesBetween(_fromCutMs, _toCutMs) * DeliveryTrace.OpportunityBytes : 0;
        return capacity == 0 ? 0 : w.CapacityBytesUsed / (double)capacity;
    }

    /// <summary>
    /// The first whole millisecond whose opportunities a snapshot taken by this meter's event at
    /// <paramref name="nowNs"/> does not hold: those due before it were played by their own events, which came first;
    /// one due at that very instant was scheduled during the run, after the window's edges, so it comes after.
    /// </summary>
    private static long TraceCutMs(long nowNs) => (nowNs + 999_999) / 1_000_000;

    private void Take(out LinkSnapshot[] links, out long[] acked)
    {
        long now = _sim.Now.Nanoseconds;
        links = new LinkSnapshot[_links.Count];
        for (int i = 0; i < links.Length; i++)
        {
            var link = _links[i];
            link.AccountQueue(now);
            var s = link.Stats;
            // BusyNs counts a packet's whole serialisation when it starts: the part still ahead is not yet busy time.
            long ahead = Math.Max(0, link.BusyUntil - now);
            links[i] = new LinkSnapshot(s.BusyNs - Math.Min(ahead, s.BusyNs), s.QueueIntegral, s.PacketsArrived, s.QueueDrops, s.RandomLosses,
                s.CapacityBytesUsed);
        }
        var conns = _stack.Connections;
        acked = new long[conns.Count];
        for (int i = 0; i < acked.Length; i++)
        {
            acked[i] = conns[i].Stats.BytesAcked;
        }
    }
}
