using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Stack;

/// <summary>Stack-wide TCP parameters, with the kernel's defaults (net/ipv4/tcp*.c, include/net/tcp.h).</summary>
public sealed record TcpStackOptions
{
    /// <summary>Payload bytes per segment (1500-byte MTU minus IP, TCP and the timestamp option).</summary>
    public int Mss { get; init; } = 1448;

    /// <summary>Header bytes on the wire per segment: IPv4 20 + TCP 20 + timestamps 12.</summary>
    public int HeaderBytes { get; init; } = 52;

    /// <summary>
    /// CONFIG_HZ of the simulated kernels (kernel/Kconfig.hz: 100, 250, 300 or 1000; 1000 by default, Kconfig's and
    /// Debian's default is 250): the rate tcp_jiffies32 advances at, and so the granularity of every timer and stamp
    /// kept in jiffies — the RTO and the REO/TLP timers (rounded up to whole jiffies), the delayed-ACK timeout, CUBIC's
    /// and BBR's stamps. The sockets carry it as <see cref="TcpSock.Hz"/>; a <see cref="Core.Bpf.BpfSystem"/> given to the
    /// stack must have the same <see cref="Core.Bpf.BpfSystemOptions.Hz"/>.
    /// </summary>
    public uint Hz { get; init; } = Jiffies.DefaultHz;

    /// <summary>TCP_INIT_CWND.</summary>
    public uint InitialCwnd { get; init; } = 10;

    /// <summary>TCP_RTO_MIN (200 ms).</summary>
    public SimTime MinRto { get; init; } = SimTime.FromMilliseconds(200);

    /// <summary>TCP_RTO_MAX (120 s).</summary>
    public SimTime MaxRto { get; init; } = SimTime.FromSeconds(120);

    /// <summary>TCP_TIMEOUT_INIT (1 s), before the first RTT sample.</summary>
    public SimTime InitialRto { get; init; } = SimTime.FromSeconds(1);

    /// <summary>
    /// TCP_DELACK_MIN and TCP_ATO_MIN (HZ/25 = 40 ms): where the adaptive delayed-ACK timeout (icsk_ack.ato) starts and
    /// the bound above which it is limited by the RTT; used in whole jiffies (at least 1 ms).
    /// </summary>
    public SimTime DelayedAck { get; init; } = SimTime.FromMilliseconds(40);

    /// <summary>
    /// net.ipv4.tcp_syn_retries (TCP_SYN_RETRIES, 6): SYN retransmissions before connect() fails with ETIMEDOUT
    /// (tcp_write_timeout in net/ipv4/tcp_timer.c; the limit is this plus <see cref="SynLinearTimeouts"/>, and the
    /// connection also fails once the time since the first SYN reaches what this many doublings of TCP_TIMEOUT_INIT
    /// would take, tcp_model_timeout).
    /// </summary>
    public int SynRetries { get; init; } = 6;

    /// <summary>
    /// net.ipv4.tcp_syn_linear_timeouts (4 since Linux 6.5): the first this many SYN timeouts keep the timeout at
    /// TCP_TIMEOUT_INIT before it doubles (tcp_retransmit_timer's out_reset_timer), so with the defaults SYNs leave at
    /// 0, 1, 2, 3, 4, 5, 7, 11, 19, 35 and 67 s and connect() fails at 131 s. 0 gives the classic 1 s doubling series.
    /// </summary>
    public int SynLinearTimeouts { get; init; } = 4;

    /// <summary>
    /// net.ipv4.tcp_synack_retries (TCP_SYNACK_RETRIES, 5): SYN-ACK retransmissions by the receiving host's request
    /// socket timer before it drops the request (reqsk_timer_handler in net/ipv4/inet_connection_sock.c).
    /// </summary>
    public int SynAckRetries { get; init; } = 5;

    /// <summary>TCP_MAX_QUICKACKS: ACK every segment at the start of a connection.</summary>
    public int QuickAcks { get; init; } = 16;

    /// <summary>sysctl_tcp_reordering: SACKed segments above a hole that mark it lost.</summary>
    public int Reordering { get; init; } = 3;

    /// <summary>sysctl_tcp_pacing_ss_ratio and _ca_ratio (percent of cwnd/srtt).</summary>
    public int PacingSsRatio { get; init; } = 200;

    public int PacingCaRatio { get; init; } = 120;

    /// <summary>
    /// sysctl_tcp_slow_start_after_idle (on by default): after an idle period longer than the RTO the window restarts
    /// (tcp_cwnd_restart, RFC 2861).
    /// </summary>
    public bool SlowStartAfterIdle { get; init; } = true;

    /// <summary>
    /// The receiving hosts' net.ipv4.tcp_congestion_control: the built-in algorithm of every receiving socket, whose
    /// receive-side hooks (init, cwnd_event(ECN_IS_CE / ECN_NO_CE) when it needs ECN, release) run on that socket.
    /// Null: <c>dctcp</c> for flows whose algorithm needs ECN (DCTCP's receivers must run it too), else <c>cubic</c>.
    /// The receiving host is another machine, so its sockets hold no reference on this host's struct_ops maps.
    /// </summary>
    public string? ReceiverCc { get; init; }

    /// <summary>
    /// net.ipv4.tcp_ecn on every host: 1 requests ECN on outgoing connections, 2 (the default) only accepts it, 0
    /// neither. Algorithms that need ECN (TCP_CONG_NEEDS_ECN) request it whatever this says, with an ECT SYN, which
    /// only a receiver whose algorithm needs ECN accepts (tcp_ecn_create_request).
    /// </summary>
    public int Ecn { get; init; } = 2;

    /// <summary>
    /// net.ipv4.tcp_recovery (include/net/tcp.h TCP_RACK_*): bit 0 (1, the default) turns on RACK-TLP loss detection
    /// (RFC 8985: time-based marking, the reordering window, the REO timer, tail loss probes); bit 1
    /// (TCP_RACK_STATIC_REO_WND) keeps the reordering window from adapting to DSACKs; bit 2 (TCP_RACK_NO_DUPTHRESH)
    /// keeps a reordering window while sacked_out ≥ reordering. 0 is the pre-RACK model: dupthresh marking on the SACK
    /// scoreboard, recovery of a lost retransmission or a tail loss by the RTO, timestamp undo only, and no TLP
    /// (in the kernel TLP is tcp_early_retrans, which is not modelled separately).
    /// </summary>
    public int Recovery { get; init; } = 1;

    /// <summary>
    /// net.ipv4.tcp_frto: F-RTO (RFC 5682, SACK-enhanced) detects spurious retransmission timeouts; any non-zero value
    /// turns it on (6.12 treats 1 and 2 alike; 2 is the default). It acts with RACK (<see cref="Recovery"/> bit 0):
    /// the tcp_recovery=0 path is kept exactly as before.
    /// </summary>
    public int Frto { get; init; } = 2;

    /// <summary>
    /// net.ipv4.tcp_dsack: receivers report duplicate segments with a D-SACK block (RFC 2883; tcp_dsack_set), on in
    /// the kernel by default. Null (the default here) follows <see cref="Recovery"/>: on with RACK, off with
    /// tcp_recovery = 0, so that the pre-RACK model — whose receivers sent no D-SACK — is reproduced exactly.
    /// </summary>
    public bool? Dsack { get; init; }

    /// <summary>Whether receivers send D-SACK blocks (<see cref="Dsack"/>, or with RACK when unset).</summary>
    internal bool SendsDsack => Dsack ?? IsRack;

    /// <summary>Whether RACK-TLP is on (tcp_is_rack: tcp_recovery &amp; TCP_RACK_LOSS_DETECTION).</summary>
    internal bool IsRack => (Recovery & 1) != 0;

    /// <summary>
    /// Segmentation offload on the senders' devices (a physical NIC's default, and veth's): TCP builds skbs of up to
    /// sk_gso_max_size (64 KiB less MAX_TCP_HEADER + 1) and sk_gso_max_segs (GSO_MAX_SEGS) that leave the host as
    /// back-to-back MSS packets sharing one transmit time and one pacing gap (sk_setup_caps in net/core/sock.c).
    /// False models sk_gso_max_segs = 1 (<c>ip link set DEV gso_max_segs 1</c>): one segment per skb. Linux 6.12
    /// always uses GSO for TCP (sk_setup_caps adds NETIF_F_GSO), so <c>ethtool -K DEV tso off</c> alone only moves
    /// the segmentation into software and does not change what the wire sees.
    /// </summary>
    public bool Tso { get; init; } = true;

    /// <summary>
    /// Generic receive offload on the receivers' devices (on by default for a physical NIC, off for veth): the
    /// packets of a flow that one NAPI poll picks up are merged into skbs as net/core/gro.c and tcp_gro_receive
    /// (net/ipv4/tcp_offload.c) merge them, and TCP sees one skb per merged run (stretch ACKs).
    /// </summary>
    public bool Gro { get; init; } = true;

    /// <summary>
    /// With <see cref="Gro"/>: the receiving NIC's interrupt coalescing (ethtool -c rx-usecs). The first packet that
    /// finds no poll pending raises the interrupt this long after it arrives; the NAPI poll then takes everything that
    /// arrived meanwhile, up to the budget of 64 packets (a full budget polls at once). 50 µs is the 20 000
    /// interrupts/s an adaptive moderation (igb/e1000e's dynamic ITR, mlx5's adaptive-rx) settles to under bulk load.
    /// </summary>
    public SimTime NapiCoalesce { get; init; } = SimTime.FromMicroseconds(50);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(Jiffies.IsValidHz(Hz), true, nameof(Hz));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Mss);
        ArgumentOutOfRangeException.ThrowIfNegative(HeaderBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(InitialCwnd);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MinRto.Nanoseconds, nameof(MinRto));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRto.Nanoseconds, MinRto.Nanoseconds, nameof(MaxRto));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Reordering);
        ArgumentOutOfRangeException.ThrowIfLessThan(DelayedAck.Nanoseconds, 1_000_000, nameof(DelayedAck));
        ArgumentOutOfRangeException.ThrowIfNotEqual(Ecn is >= 0 and <= 2, true, nameof(Ecn));
        ArgumentOutOfRangeException.ThrowIfNotEqual(Recovery is >= 0 and <= 7, true, nameof(Recovery));
        ArgumentOutOfRangeException.ThrowIfNotEqual(Frto is >= 0 and <= 2, true, nameof(Frto));
        ArgumentOutOfRangeException.ThrowIfNegative(NapiCoalesce.Nanoseconds, nameof(NapiCoalesce));
        // MAX_TCP_SYNCNT (127) bounds all three sysctls (net/ipv4/sysctl_net_ipv4.c).
        ArgumentOutOfRangeException.ThrowIfNotEqual(SynRetries is >= 1 and <= 127, true, nameof(SynRetries));
        ArgumentOutOfRangeException.ThrowIfNotEqual(SynLinearTimeouts is >= 0 and <= 127, true, nameof(SynLinearTimeouts));
        ArgumentOutOfRangeException.ThrowIfNotEqual(SynAckRetries is >= 1 and <= 127, true, nameof(SynAckRetries));
    }
}
