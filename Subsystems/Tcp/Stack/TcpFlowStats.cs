namespace BpfSim.Tcp.Stack;

/// <summary>Per-flow counters, updated in place on the packet path.</summary>
public sealed class TcpFlowStats
{
    private readonly TcpConnection _owner;
    private Core.Metrics.LogLinearHistogram? _oneWayDelay;

    internal TcpFlowStats(TcpConnection owner)
    {
        _owner = owner;
    }

    public long BytesAcked => _owner.Counters.BytesAcked;
    public long SegmentsSent => _owner.Counters.SegmentsSent;
    public long Retransmits { get; internal set; }
    public long Timeouts { get; internal set; }
    public long FastRecoveries { get; internal set; }
    /// <summary>Reductions undone because the retransmissions proved unnecessary (spurious RTO or recovery).</summary>
    public long Undos { get; internal set; }
    public long EcnEchoes { get; internal set; }
    /// <summary>Window restarts after an idle period longer than the RTO (tcp_cwnd_restart, RFC 2861).</summary>
    public long CwndRestarts { get; internal set; }
    /// <summary>Tail loss probes sent (LINUX_MIB_TCPLOSSPROBES).</summary>
    public long LossProbes { get; internal set; }
    /// <summary>Loss probes whose ACK showed a loss that the probe repaired (LINUX_MIB_TCPLOSSPROBERECOVERY).</summary>
    public long LossProbeRecoveries { get; internal set; }
    /// <summary>RACK reordering timer expiries (tcp_rack_reo_timeout; ICSK_TIME_REO_TIMEOUT).</summary>
    public long RackReoTimeouts { get; internal set; }
    /// <summary>Retransmissions found lost again (LINUX_MIB_TCPLOSTRETRANSMIT, tcp_mark_skb_lost).</summary>
    public long LostRetransmits { get; internal set; }
    /// <summary>ACKs carrying a D-SACK the sender accepted (LINUX_MIB_TCPDSACKRECV + TCPDSACKOFORECV, tcp_check_dsack).</summary>
    public long DsacksReceived { get; internal set; }
    /// <summary>Retransmission timeouts F-RTO found spurious (LINUX_MIB_TCPSPURIOUSRTOS).</summary>
    public long SpuriousRtos { get; internal set; }
    /// <summary>Recoveries undone at their end (LINUX_MIB_TCPFULLUNDO, tcp_try_undo_recovery).</summary>
    public long FullUndos { get; internal set; }
    /// <summary>Recoveries undone on a partial ACK (LINUX_MIB_TCPPARTIALUNDO, tcp_try_undo_partial).</summary>
    public long PartialUndos { get; internal set; }
    /// <summary>Reductions undone because D-SACKs covered every retransmission (LINUX_MIB_TCPDSACKUNDO).</summary>
    public long DsackUndos { get; internal set; }
    /// <summary>Loss (RTO) episodes undone (LINUX_MIB_TCPLOSSUNDO, tcp_try_undo_loss and tcp_try_undo_recovery in Loss).</summary>
    public long LossUndos { get; internal set; }
    /// <summary>SYNs sent again after a timeout (the handshake's part of tp->total_retrans; LINUX_MIB_TCPTIMEOUTS in SYN_SENT).</summary>
    public long SynRetransmits { get; internal set; }
    /// <summary>SYN-ACKs the receiving host sent again: on its request timer or for a retransmitted SYN (LINUX_MIB_TCPSYNRETRANS).</summary>
    public long SynAckRetransmits { get; internal set; }
    /// <summary>Whether the receiving host dropped the request after tcp_synack_retries SYN-ACK timeouts.</summary>
    public bool SynAckGaveUp { get; internal set; }
    public long RttSamples => _owner.Counters.RttSamples;
    public double RttSumMs => _owner.Counters.RttSumMs;
    public double RttMinMs => _owner.Counters.RttMinMs;
    public double RttMaxMs => _owner.Counters.RttMaxMs;

    /// <summary>
    /// One-way delay of the data packets that reached the receiver inside the measurement window (ns: the arrival at
    /// the receiving host minus the TSval the sender stamped, so µs resolution); null until the first one, or when the
    /// stack records none (<see cref="TcpStack.RecordOneWayDelay"/>).
    /// </summary>
    public Core.Metrics.LogLinearHistogram? OneWayDelay
    {
        get
        {
            _owner.FlushOneWayDelay(); // the connection keeps the last run of delays in one bucket beside its state
            return _oneWayDelay;
        }
        internal set => _oneWayDelay = value;
    }

    public double RttMeanMs => RttSamples == 0 ? 0 : RttSumMs / RttSamples;

}
