namespace BpfSim.Tcp.Congestion;

/// <summary><c>enum bbr_mode</c> (net/ipv4/tcp_bbr.c): how BBR decides how fast to send.</summary>
internal enum BbrMode : uint
{
    /// <summary>BBR_STARTUP: ramp up the sending rate rapidly to fill the pipe.</summary>
    Startup = 0,
    /// <summary>BBR_DRAIN: drain the queue STARTUP created.</summary>
    Drain = 1,
    /// <summary>BBR_PROBE_BW: discover and share bandwidth, pacing around the estimate.</summary>
    ProbeBw = 2,
    /// <summary>BBR_PROBE_RTT: cut inflight to the minimum to re-measure min_rtt.</summary>
    ProbeRtt = 3,
}
