using System.Globalization;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Studies.Mahimahi;

/// <summary>
/// Writes what happens at one link in mm-link's log format (mahimahi src/frontend/link_queue.cc and mm-link(1)), so
/// mm-throughput-graph, mm-delay-graph and other readers of mm-link logs read a bpfsim run. After the header
/// (<c># mahimahi mm-link (NAME) [TRACE] &gt; LOG</c>, <c># command line:</c>, <c># queue:</c>,
/// <c># init timestamp:</c>, <c># base timestamp:</c>, both 0: times are simulated milliseconds), one line per event:
/// <list type="bullet">
/// <item><c>MS + BYTES</c>: a packet reached the link (record_arrival), dropped or not;</item>
/// <item><c>MS # 1504</c>: a delivery opportunity (record_departure_opportunity);</item>
/// <item><c>MS - BYTES DELAY</c>: a packet left, DELAY ms after it arrived (record_departure);</item>
/// <item><c>MS d PACKETS BYTES</c>: the queue dropped packets (record_drop).</item>
/// </list>
/// BYTES are mm-link's: the IP packet plus the TUN header's 4. A fixed-rate link has no trace, so its capacity is
/// written as mm-link would for a trace of its rate: one 1504-byte opportunity per 1500-byte packet time, at the
/// millisecond it completes. Lines are in time order; a fixed-rate link's departure (known when the packet starts
/// on the wire) waits until the clock reaches it. Writing a line allocates nothing.
/// </summary>
public sealed class MmLinkLog : ILinkRecorder, IDisposable
{
    /// <summary>Capacity credit one opportunity costs on a fixed-rate link: 1500 bytes in bit-nanoseconds per second.</summary>
    private static readonly Int128 s_tickCost = (Int128)DeliveryTrace.MtuBytes * 8 * SimTime.NanosPerSecond;

    private readonly TextWriter _writer;
    private readonly Simulator _sim;
    private readonly Link _link;
    private readonly char[] _line = new char[96];

    // Fixed-rate capacity: credit earned at the link's rate since _creditNs, in bit-nanoseconds per second.
    private Int128 _credit;
    private long _creditNs;

    // The one departure told but not yet due (fixed-rate links only ever have one).
    private bool _pending;
    private long _pendingNs;
    private long _pendingArrivalNs;
    private int _pendingBytes;

    /// <param name="writer">Where the lines go; disposed with this log.</param>
    /// <param name="logName">The log's file name, for the header's first line.</param>
    /// <param name="commandLine">What the header's command line says.</param>
    /// <param name="queue">The header's queue line (mm-link's <c>to_string</c> of its queue, e.g. <c>droptail [packets=250]</c>).</param>
    public MmLinkLog(TextWriter writer, Simulator sim, Link link, string logName, string commandLine, string queue)
    {
        _writer = writer;
        _sim = sim;
        _link = link;
        string trace = link.Trace?.Source ?? $"fixed rate {Quantity.FormatRate(link.RateBps)}";
        writer.Write($"# mahimahi mm-link ({link.Name}) [{trace}] > {logName}\n");
        writer.Write($"# command line: {commandLine}\n");
        writer.Write($"# queue: {queue}\n");
        writer.Write("# init timestamp: 0\n");
        writer.Write("# base timestamp: 0\n");
        _creditNs = sim.Now.Nanoseconds;
    }

    /// <summary>Lines written after the header, by kind: arrivals, opportunities, departures, drops.</summary>
    public (long Arrivals, long Opportunities, long Departures, long Drops) Lines { get; private set; }

    public void Arrival(Link link, in Packet packet, long nowNs)
    {
        CatchUp(nowNs);
        Write(nowNs, '+', packet.SizeBytes + DeliveryTrace.TunHeaderBytes);
        Lines = Lines with { Arrivals = Lines.Arrivals + 1 };
    }

    public void Drop(Link link, in Packet packet, long nowNs)
    {
        CatchUp(nowNs);
        Write(nowNs, 'd', 1, packet.SizeBytes + DeliveryTrace.TunHeaderBytes);
        Lines = Lines with { Drops = Lines.Drops + 1 };
    }

    public void Opportunity(Link link, long timeNs, int bytes)
    {
        CatchUp(timeNs);
        Write(timeNs, '#', bytes);
        Lines = Lines with { Opportunities = Lines.Opportunities + 1 };
    }

    public void Departure(Link link, in Packet packet, long departureNs)
    {
        CatchUp(Math.Min(departureNs, _sim.Now.Nanoseconds));
        if (_pending)
        {
            WritePending(); // a trace-driven link's opportunity can finish several packets at one instant
        }
        (_pending, _pendingNs, _pendingArrivalNs, _pendingBytes) = (true, departureNs, packet.EnqueuedNs, packet.SizeBytes + DeliveryTrace.TunHeaderBytes);
    }

    public void Changing(Link link, long nowNs) => CatchUp(nowNs);

    /// <summary>Writes what is due up to <paramref name="endNs"/> (the end of the run) and flushes; a later departure is not written.</summary>
    public void Finish(long endNs)
    {
        CatchUp(endNs);
        _pending = false;
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>Writes the fixed-rate capacity and the pending departure due by <paramref name="nowNs"/>, in time order.</summary>
    private void CatchUp(long nowNs)
    {
        if (_link.Trace is null)
        {
            long rate = _link.RateBps;
            while (true)
            {
                // The opportunity completes when the credit reaches one packet's worth.
                long wait = (long)((s_tickCost - _credit + rate - 1) / rate);
                long tick = _creditNs + wait;
                if (tick > nowNs)
                {
                    break;
                }
                if (_pending && _pendingNs <= tick)
                {
                    WritePending();
                }
                _credit += (Int128)rate * wait - s_tickCost;
                _creditNs = tick;
                Write(tick, '#', DeliveryTrace.OpportunityBytes);
                Lines = Lines with { Opportunities = Lines.Opportunities + 1 };
            }
            _credit += (Int128)rate * (nowNs - _creditNs);
            _creditNs = nowNs;
        }
        if (_pending && _pendingNs <= nowNs)
        {
            WritePending();
        }
    }

    private void WritePending()
    {
        _pending = false;
        long ms = _pendingNs / SimTime.NanosPerMilli;
        Write(_pendingNs, '-', _pendingBytes, ms - _pendingArrivalNs / SimTime.NanosPerMilli);
        Lines = Lines with { Departures = Lines.Departures + 1 };
    }

    /// <summary>One line: the time in whole milliseconds, the event's character, then one or two numbers.</summary>
    private void Write(long timeNs, char kind, long a, long b = -1)
    {
        Span<char> line = _line;
        int n = Number(line, timeNs / SimTime.NanosPerMilli);
        line[n++] = ' ';
        line[n++] = kind;
        line[n++] = ' ';
        n += Number(line[n..], a);
        if (b >= 0)
        {
            line[n++] = ' ';
            n += Number(line[n..], b);
        }
        line[n++] = '\n';
        _writer.Write(line[..n]);
    }

    private static int Number(Span<char> into, long value)
    {
        value.TryFormat(into, out int written, default, CultureInfo.InvariantCulture);
        return written;
    }
}
