namespace BpfSim.Tcp.Net;

/// <summary>
/// A trace-driven link's place in its <see cref="DeliveryTrace"/> and the packet its opportunities are filling.
/// mm-link's <c>next_delivery_</c>, <c>base_timestamp_</c>, <c>packet_in_transit_</c> and
/// <c>packet_in_transit_bytes_left_</c> (src/frontend/link_queue.cc), with the trace starting at simulated time 0.
/// </summary>
internal sealed class DeliveryCursor(DeliveryTrace trace)
{
    private int _next;
    private long _baseMs;

    public DeliveryTrace Trace { get; } = trace;

    /// <summary>The packet taken from the queue whose bytes are being delivered, or -1.</summary>
    public int InTransit { get; set; } = -1;

    /// <summary>Bytes of <see cref="InTransit"/> (mm-link's size: IP + 4) still to deliver.</summary>
    public int BytesLeft { get; set; }

    /// <summary>An opportunity event is scheduled (only while something waits to be delivered).</summary>
    public bool EventPending { get; set; }

    /// <summary>When the next opportunity opens (ns).</summary>
    public long NextNs => (Trace[_next] + _baseMs) * 1_000_000;

    /// <summary>Uses up the next opportunity: the following line, or the first again one period later.</summary>
    public void Advance()
    {
        if (++_next == Trace.Count)
        {
            _next = 0;
            _baseMs += Trace.PeriodMs;
        }
    }

    /// <summary>
    /// On an idle link, passes whole periods of opportunities that closed before <paramref name="nowNs"/> at once (each
    /// would deliver nothing) and returns how many opportunities that was.
    /// </summary>
    public long SkipIdlePeriods(long nowNs)
    {
        long periodNs = Trace.PeriodMs * 1_000_000;
        long behind = nowNs - NextNs;
        if (behind < periodNs)
        {
            return 0;
        }
        long periods = behind / periodNs;
        _baseMs += periods * Trace.PeriodMs;
        return periods * Trace.Count;
    }
}
