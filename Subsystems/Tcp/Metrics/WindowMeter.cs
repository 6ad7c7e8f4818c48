using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Metrics;

/// <summary>
/// Takes the counters a window metric needs at the window's two edges: every watched link's busy time, queue-length
/// integral, arrivals and losses, and every open connection's acknowledged bytes. A metric over the window is then
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
        }
    }

    void IEventHandler.OnEvent(int kind, long arg)
    {
        if (kind == KindFrom)
        {
            Take(out _linksFrom, out _ackedFrom);
            foreach (var link in _links)
            {
                link.RecordQueueDelay(); // queue_delay_ms: the packets sent inside the window
            }
        }
        else
        {
            Take(out _linksTo, out _ackedTo);
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
            links[i] = new LinkSnapshot(s.BusyNs - Math.Min(ahead, s.BusyNs), s.QueueIntegral, s.PacketsArrived, s.QueueDrops, s.RandomLosses);
        }
        var conns = _stack.Connections;
        acked = new long[conns.Count];
        for (int i = 0; i < acked.Length; i++)
        {
            acked[i] = conns[i].Stats.BytesAcked;
        }
    }
}
