namespace BpfSim.Tcp.Net;

/// <summary>Trace-driven links: delivery at a Mahimahi trace's opportunities.</summary>
public sealed partial class Network
{
    /// <summary>
    /// Plays <paramref name="link"/>'s trace up to <paramref name="now"/>, as mm-link's <c>LinkQueue::rationalize</c>
    /// (src/frontend/link_queue.cc) does: each opportunity due gives <see cref="DeliveryTrace.OpportunityBytes"/>; the
    /// packet in transit takes what it still needs, then the next queued packet is taken and so on; a packet whose
    /// last byte is delivered leaves at the opportunity's time; bytes left when the queue is empty are lost (no credit).
    /// A packet counts as mm-link sees it, its IP bytes plus the TUN header's 4, so a full-size packet is one opportunity.
    /// </summary>
    private void Rationalize(Link link, DeliveryCursor cursor, long now)
    {
        if (cursor.InTransit < 0 && link.Queue.Length == 0 && link.Recorder is null)
        {
            link.Stats.CapacityBytes += cursor.SkipIdlePeriods(now) * DeliveryTrace.OpportunityBytes;
        }
        while (cursor.NextNs <= now)
        {
            long t = cursor.NextNs;
            int bytes = DeliveryTrace.OpportunityBytes;
            link.Stats.CapacityBytes += bytes;
            link.Recorder?.Opportunity(link, t, bytes);
            cursor.Advance();
            while (bytes > 0)
            {
                if (cursor.InTransit < 0)
                {
                    int next = link.Queue.DequeueToTransmit(Packets, t);
                    if (next < 0)
                    {
                        break; // empty, or (fq) nothing due: the next opportunity looks again
                    }
                    link.DelayRecorder?.Record(t - Packets[next].EnqueuedNs);
                    cursor.InTransit = next;
                    cursor.BytesLeft = Packets[next].SizeBytes + DeliveryTrace.TunHeaderBytes;
                }
                int used = Math.Min(bytes, cursor.BytesLeft);
                cursor.BytesLeft -= used;
                bytes -= used;
                link.Stats.CapacityBytesUsed += used;
                if (cursor.BytesLeft == 0)
                {
                    int done = cursor.InTransit;
                    cursor.InTransit = -1;
                    Depart(link, done, t);
                }
            }
        }
    }

    /// <summary>An opportunity of a link with something to deliver is due.</summary>
    private void OnOpportunity(Link link)
    {
        var cursor = link.Cursor!;
        cursor.EventPending = false;
        long now = _sim.Now.Nanoseconds;
        link.AccountQueue(now);
        Rationalize(link, cursor, now);
        if (cursor.InTransit >= 0 || link.Queue.Length > 0)
        {
            ScheduleOpportunity(link, cursor);
        }
    }

    /// <summary>Wakes the link at its next opportunity; an idle trace-driven link has no events.</summary>
    private void ScheduleOpportunity(Link link, DeliveryCursor cursor)
    {
        cursor.EventPending = true;
        _sim.Schedule(new Core.Simulation.SimTime(cursor.NextNs), _handler, KindOpportunity, link.Id);
    }
}
