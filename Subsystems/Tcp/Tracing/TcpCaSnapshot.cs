using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Tracing;

/// <summary>What a congestion-control hook may change, taken before the call: cwnd, ssthresh, pacing rate, ca_state.</summary>
public readonly struct TcpCaSnapshot
{
    public TcpCaSnapshot(in TcpSock sk)
    {
        Cwnd = sk.SndCwnd;
        Ssthresh = sk.SndSsthresh;
        PacingRate = sk.SkPacingRate;
        CaState = sk.IcskCaState;
    }

    /// <summary>snd_cwnd (packets).</summary>
    public uint Cwnd { get; }

    /// <summary>snd_ssthresh (packets).</summary>
    public uint Ssthresh { get; }

    /// <summary>sk_pacing_rate (bytes per second; ~0 is unlimited).</summary>
    public ulong PacingRate { get; }

    public TcpCaState CaState { get; }
}
