namespace BpfSim.Tcp.Stack;

/// <summary>
/// An application that writes <see cref="BurstBytes"/> every <see cref="Interval"/> from the flow's start (on/off
/// traffic), instead of queueing the whole transfer at once. Between bursts the socket idles, so the kernel's idle
/// handling applies: TX_START when sending resumes, and after more than an RTO the window restart of RFC 2861
/// (CA_EVENT_CWND_RESTART, tcp_cwnd_restart). A burst is sent as whole segments (rounded up to the MSS).
/// </summary>
public sealed record TcpWritePattern(long BurstBytes, Core.Simulation.SimTime Interval)
{
    /// <exception cref="ArgumentOutOfRangeException">The burst or the interval is not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BurstBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Interval.Nanoseconds, nameof(Interval));
    }
}
