using System.Runtime.InteropServices;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// The receiving end's state of a <see cref="TcpConnection"/> (<see cref="TcpConnection.Rcv"/>), in one run of lines
/// apart from the sender's (<see cref="TcpSenderState"/>): what every data segment touches — reassembly, the NAPI
/// batch, the one-way-delay run, delayed-ACK state — then the SACK blocks an out-of-order arrival writes. Sequence
/// positions are segment numbers.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcpReceiverState
{
    public ulong RcvNxt;
    public ulong RcvHighest;        // one past the highest segment received
    // The current run of one-way delays that fall in one bucket of the receiver's histogram (TcpConnection.OneWayDelay).
    public long OwdRunSum;
    public long OwdRunMax;
    public int OwdRunBucket;
    public int OwdRunCount;
    public int NapiCount;           // packets in the NAPI batch
    public int UnackedSegments;
    public int QuickAcksLeft;
    // icsk_ack.ato / lrcvtime / timeout (jiffies), and what the receiving socket measured of the handshake
    // (tcp_synack_rtt_meas): srtt (µs) and icsk_rto (jiffies), which bound the delayed-ACK timeout.
    public uint AtoJiffies;
    public uint LrcvTimeJiffies;
    public uint DelackTimeoutJiffies;
    public uint RcvSrttUs;
    public uint RcvRtoJiffies;
    public TimerId DelackTimer;
    public TimerId NapiTimer;       // the receiving NIC's coalesced interrupt (GRO)
    public int NumSacks;
    public bool ReceiverReady;      // the receiving socket is established and its algorithm initialised
    // tp->rx_opt.dsack and duplicate_sack[0]: a D-SACK block [start, end) for the next ACK.
    public bool DsackPending;
    public ulong DsackStart;
    public ulong DsackEnd;
    // tp->selective_acks / rx_opt.num_sacks: up to TCP_NUM_SACKS blocks of segments [start, end), most recent first.
    public SackSeqs SackStart;
    public SackSeqs SackEnd;

    /// <summary>The state before the handshake: icsk_rto at TCP_TIMEOUT_INIT until measured.</summary>
    public TcpReceiverState()
    {
        RcvRtoJiffies = TcpTime.Hz;
    }
}
