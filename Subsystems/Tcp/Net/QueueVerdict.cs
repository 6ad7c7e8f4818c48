namespace BpfSim.Tcp.Net;

/// <summary>What a queue did with an arriving packet.</summary>
public enum QueueVerdict
{
    Enqueued,
    /// <summary>Enqueued with its ECN codepoint set to CE.</summary>
    Marked,
    Dropped,
}
