using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// Bulk TCP connections over a <see cref="Network"/>, with congestion control called through
/// <see cref="TcpCongestionOps"/> at the kernel's call points (net/ipv4/tcp_input.c, tcp_output.c, tcp_cong.c).
/// Sockets live in a table indexed by connection id; the per-packet paths allocate nothing.
/// </summary>
/// <remarks>
/// Modelled: three-way handshake with ECN negotiation, SYN and SYN-ACK timeouts and connect() failure
/// (TcpStack.Handshake.cs, TcpStack.SynAck.cs, docs/tcp-handshake.md), MSS-sized segments, SACK scoreboard with loss marking by the
/// reordering threshold, CA states Open/Disorder/CWR/Recovery/Loss, PRR (RFC 6937), RTO per RFC 6298 with the
/// kernel's 200 ms minimum and exponential backoff, in whole jiffies and firing on the tick, delayed ACKs with the
/// adaptive timeout (icsk_ack.ato: tcp_event_data_recv, tcp_send_delayed_ack, doubled when the timer fires), quick
/// ACKs at the start, after an idle longer than the receiver's RTO, after duplicate data and on ECN events, PSH on the
/// last segment of each write and TSO skb with the ACK of a pushed segment when the application reads it
/// (TcpStack.Psh.cs, TcpStack.ReadAck.cs), ECN, pacing when the algorithm asks for
/// it, and a delivery-rate sample per ACK. ECN is requested when the algorithm has TCP_CONG_NEEDS_ECN (with an ECT
/// SYN) or net.ipv4.tcp_ecn is 1 (<see cref="TcpStackOptions.Ecn"/>). Each connection's receiving end is a socket of
/// its own running the receiving host's built-in algorithm (<see cref="TcpStackOptions.ReceiverCc"/>), which accepts
/// ECN as tcp_ecn_create_request does: CE feedback follows tcp_data_ecn_check, with cwnd_event(ECN_IS_CE/ECN_NO_CE)
/// on that socket for an algorithm that needs ECN (DCTCP's per-CE-run echo) and RFC 3168's ECE-until-CWR otherwise.
/// The receiver remembers up to four SACK blocks, most recently created or extended first, and sends three
/// (tcp_sack_new_ofo_skb). A reduction is undone (undo_cwnd) when timestamps show the retransmissions were unnecessary
/// (tcp_packet_delayed). Loss recovery is RACK-TLP by default (<see cref="TcpStackOptions.Recovery"/>; the partial
/// files .Rack, .LossProbe, .FastRetrans and .Undo): time-based loss marking with the reordering window and REO timer,
/// tail loss probes, F-RTO, and undo by timestamps, receiver D-SACKs (.Dsack) and F-RTO; tcp_recovery = 0 keeps the
/// pre-RACK dupthresh model unchanged. TSO/GSO skbs (TcpStack.Tso.cs), internal pacing (TcpStack.Pacing.cs) and GRO at
/// the receiver (TcpStack.Gro.cs) are modelled. Applications write everything at once (bulk) or in bursts
/// (<see cref="TcpWritePattern"/>); an idle time above the RTO restarts the window (tcp_cwnd_restart,
/// CA_EVENT_CWND_RESTART). Not modelled yet: SACK reneging, tcp_early_retrans as a separate switch, interactive
/// (pingpong) delayed ACKs and the receive-window bound on quick ACKs, the timer wheel's coarse levels, the
/// decay of tcp_cwnd_application_limited (see <see cref="CwndValidate"/>), receive-window limits, Nagle, TCP Small
/// Queues (see docs/scenarios.md). sk_sndbuf, sized by tcp_sndbuf_expand,
/// limits the data queued (sent and unsent) to at most tcp_wmem[2]. get_info is called as inet_diag calls it (<see cref="GetCcInfo"/>), by the metrics sampler at each
/// sample.
/// </remarks>
public sealed partial class TcpStack : IEventHandler, ITcpSocketControl
{
    private const int KindStart = 0;
    private const int KindRto = 1;
    private const int KindPace = 2;
    private const int KindDelack = 3;
    private const int KindStop = 4;
    private const int KindWrite = 5;
    private const int KindNapi = 6;
    private const int KindSynAck = 7;

    private readonly Network _net;
    private readonly Simulator _sim;
    private readonly TcpStackOptions _options;
    private readonly TcpCongestionRegistry _registry;
    private readonly BpfSystem? _bpf;
    private readonly HandlerId _handler;
    private readonly List<TcpConnection> _connections = [];
    // From this many connections their state no longer fits the caches and the simulator's prefetch hints pay for
    // themselves (TcpStack.Prefetch.cs, Network.Prefetch.cs); below it they only cost time.
    private const int PrefetchFromConnections = 256;
    private TcpSock[] _socks = new TcpSock[16];
    // The receiving end of each connection: its own socket on the receiving host (ECN state, rcv_nxt, ACK state and
    // the receiving host's congestion control).
    private TcpSock[] _rcvSocks = new TcpSock[16];
    private readonly TcpCongestionOps? _receiverCc;
    private readonly SendAckFn _ackOutput;
    // CONFIG_HZ (TcpStackOptions.Hz), read on every jiffies conversion.
    private readonly uint _hz;

    public TcpStack(Network network, TcpCongestionRegistry registry, TcpStackOptions? options = null, BpfSystem? bpf = null)
    {
        _net = network;
        _sim = network.Simulator;
        _options = options ?? new TcpStackOptions();
        _options.Validate();
        _hz = _options.Hz;
        if (bpf is not null && bpf.Options.Hz != _hz)
        {
            throw new ArgumentException($"the stack's HZ ({_hz}) differs from its BpfSystem's ({bpf.Options.Hz}): one kernel has one CONFIG_HZ", nameof(options));
        }
        _registry = registry;
        _bpf = bpf;
        _handler = _sim.Register(this);
        _ackOutput = SendAckKfunc;
        if (bpf?.FindStructOpsType(TcpCongestionOpsType.TypeName) is TcpCongestionOpsType type)
        {
            type.Sockets = this;
        }
        if (_options.ReceiverCc is { } receiverCc)
        {
            _receiverCc = registry.Find(receiverCc) is { Owner: null } builtin
                ? builtin
                : throw new ArgumentException($"receiver algorithm '{receiverCc}' is not a built-in algorithm " +
                                              $"({string.Join(", ", registry.Available.Where(a => a.Owner is null).Select(a => a.Name))})", nameof(options));
        }
    }

    public TcpStackOptions Options => _options;

    public IReadOnlyList<TcpConnection> Connections => _connections;

    /// <summary>The kernel-shaped socket of connection <paramref name="id"/>.</summary>
    public ref TcpSock Sock(int id) => ref _socks[id];

    /// <summary>
    /// The congestion-control attribute of an inet_diag socket dump, as <c>ss -i</c> gets it (inet_sk_diag_fill in
    /// net/ipv4/inet_diag.c): for a socket not closed, its algorithm's get_info with the requested extensions writes a
    /// member of <c>union tcp_cc_info</c> into <paramref name="info"/> (decode with <see cref="TcpCcInfo.Decode"/>).
    /// </summary>
    /// <param name="ext">The requested INET_DIAG extensions; <see cref="TcpCcInfo.SsExtensions"/> is what <c>ss -i</c> asks.</param>
    /// <returns>The bytes written, with <paramref name="attr"/> the attribute; 0 if the algorithm has no get_info or did not answer.</returns>
    /// <exception cref="ArgumentException"><paramref name="info"/> is smaller than the union.</exception>
    public int GetCcInfo(int connection, uint ext, Span<byte> info, out int attr)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(info.Length, TcpCcInfo.UnionSize, nameof(info));
        attr = 0;
        var conn = _connections[connection];
        if (conn.State is not (TcpConnectionState.SynSent or TcpConnectionState.Established) || conn.Ops.GetInfo is null)
        {
            return 0;
        }
        return (int)conn.Ops.GetInfo(ref _socks[connection], ext, ref attr, info);
    }

    /// <summary>Raised after a connection's algorithm changed cwnd or state on an ACK or timeout (for tracing).</summary>
    public event Action<TcpConnection>? Updated;

    /// <summary>
    /// Opens a connection that starts at <paramref name="start"/>, with congestion control <paramref name="cc"/>
    /// (setsockopt(TCP_CONGESTION)) or the default, sending <paramref name="bytes"/> bytes (-1: until
    /// <paramref name="stop"/> or the end of the run). <paramref name="connect"/> attaches the connection's sender and
    /// receiver endpoints to a topology and returns its path (e.g. <see cref="Dumbbell.AddFlow"/>).
    /// </summary>
    /// <param name="writes">How the application writes: null queues everything at the start (a bulk transfer).</param>
    /// <returns>ENOENT for an unknown algorithm, EBUSY for one being unregistered.</returns>
    public BpfResult Open(Func<IPacketSink, IPacketSink, FlowPath> connect, string? cc, SimTime start, out TcpConnection? connection,
        long bytes = -1, SimTime? stop = null, TcpWritePattern? writes = null)
    {
        writes?.Validate();
        connection = null;
        TcpCongestionOps ops;
        if (cc is null)
        {
            ops = _registry.AssignDefault();
        }
        else
        {
            var r = _registry.TryAcquire(cc, out ops);
            if (!r.IsOk)
            {
                return r;
            }
        }
        int id = _connections.Count;
        if (id == _socks.Length)
        {
            Array.Resize(ref _socks, _socks.Length * 2);
            Array.Resize(ref _rcvSocks, _socks.Length);
        }
        var conn = new TcpConnection(id, ops, bytes)
        {
            Mss = _options.Mss,
            RtoNs = _options.InitialRto.Nanoseconds,
            RcvRtoJiffies = (uint)Jiffies.NsecsToJiffies((ulong)_options.InitialRto.Nanoseconds, _hz), // TCP_TIMEOUT_INIT
            QuickAcksLeft = _options.QuickAcks,
            RequestEcn = ops.NeedsEcn || _options.Ecn == 1,
            ReceiverOps = _receiverCc ?? (ops.NeedsEcn ? Dctcp.Ops : Cubic.Ops),
            StartTime = start,
            Writes = writes,
            Reordering = (uint)_options.Reordering, // tcp_init_sock: tp->reordering = sysctl_tcp_reordering
        };
        conn.WrittenSegments = writes is null ? conn.TotalSegments : 0;
        conn.RtoTimer = _sim.CreateTimer(_handler, KindRto);
        conn.PaceTimer = _sim.CreateTimer(_handler, KindPace);
        conn.DelackTimer = _sim.CreateTimer(_handler, KindDelack);
        conn.NapiTimer = _sim.CreateTimer(_handler, KindNapi);
        conn.SynAckTimer = _sim.CreateTimer(_handler, KindSynAck);
        _connections.Add(conn);
        if (_connections.Count == PrefetchFromConnections)
        {
            _sim.PrefetchHints = true;
        }
        _socks[id] = new TcpSock
        {
            SndCwnd = _options.InitialCwnd,
            SndSsthresh = TcpSock.InfiniteSsthresh,
            SndCwndClamp = uint.MaxValue,
            MssCache = (uint)_options.Mss,
            SkSndbuf = TcpWmemDefault, // tcp_init_sock
            SkMaxPacingRate = ulong.MaxValue, // sock_init_data: ~0UL
            SkPacingRate = ulong.MaxValue, // sock_init_data: ~0UL until the first tcp_update_pacing_rate
            PrandomState = _net.RandomFor("tcp-sock:" + id).NextUInt64(),
            SocketId = id + 1,
            ConfigHz = (ushort)_hz,
        };
        _socks[id].RttMin.Reset(0, ~0u); // tcp_init_sock: no RTT sample yet
        _rcvSocks[id] = new TcpSock
        {
            SocketId = -(id + 1),
            ConfigHz = (ushort)_hz,
            SndCwnd = _options.InitialCwnd,
            SndSsthresh = TcpSock.InfiniteSsthresh,
            SndCwndClamp = uint.MaxValue,
            MssCache = (uint)_options.Mss,
        };
        conn.Path = connect(new Endpoint(this, conn, isSender: true), new Endpoint(this, conn, isSender: false));
        _net.RegisterFlow(id, conn.Path.Forward, conn.Path.Reverse, conn.Mss); // its addresses, for the bytes XDP programs see
        _sim.Schedule(start, _handler, KindStart, id);
        if (writes is not null)
        {
            _sim.Schedule(start, _handler, KindWrite, id);
        }
        if (stop is { } s)
        {
            _sim.Schedule(s, _handler, KindStop, id);
        }
        connection = conn;
        return BpfResult.Ok;
    }

    /// <summary>One side of a connection, as the network's sink at the end of a route.</summary>
    internal sealed class Endpoint(TcpStack stack, TcpConnection conn, bool isSender) : IPacketSink
    {
        public object PrefetchTarget => conn;

        public void PrefetchState() => stack.PrefetchConnectionState(conn, isSender);

        public void Receive(int packet)
        {
            if (isSender)
            {
                stack.SenderReceive(conn, packet);
            }
            else
            {
                stack.ReceiverArrive(conn, packet);
            }
        }
    }

    void IEventHandler.OnEvent(int kind, long arg)
    {
        var conn = _connections[(int)arg];
        switch (kind)
        {
            case KindStart:
                Start(conn);
                break;
            case KindRto:
                if (_options.IsRack)
                {
                    XmitTimerFired(conn);
                }
                else
                {
                    RetransmitTimer(conn);
                }
                break;
            case KindPace:
                WriteXmit(conn);
                break;
            case KindDelack:
                DelackTimer(conn);
                break;
            case KindWrite:
                AppWrite(conn);
                break;
            case KindNapi:
                NapiPoll(conn);
                break;
            case KindSynAck:
                SynAckTimerFired(conn);
                break;
            case KindStop:
                conn.Stopping = true;
                if (conn.State == TcpConnectionState.Established && _socks[conn.Id].PacketsOut == 0)
                {
                    Close(conn);
                }
                break;
        }
    }

    /// <summary>Runs congestion-control code of a BPF algorithm on a CPU, as a program invocation.</summary>
    private ProgramScope? EnterCa(TcpConnection conn) =>
        _bpf is not null && conn.Ops.IsBpf ? _bpf.EnterProgram(conn.Id % _bpf.Cpus.Count) : null;

    private uint NowUs => (uint)(_sim.Now.Nanoseconds / 1000);

    /// <summary>tcp_jiffies32 now, at the stack's HZ.</summary>
    private uint NowJiffies => (uint)Jiffies.JiffiesAtNsecs((ulong)_sim.Now.Nanoseconds, _hz);

    /// <summary>tcp_mstamp_refresh: tcp_clock_cache (ns) and tcp_mstamp (µs) become now.</summary>
    private void MstampRefresh(ref TcpSock sk)
    {
        sk.TcpClockCache = (ulong)_sim.Now.Nanoseconds;
        sk.TcpMstamp = (ulong)(_sim.Now.Nanoseconds / 1000); // 64-bit µs: no wrap in any run
    }

    /// <summary>tcp_set_ca_state: the hook sees the old state, then the state changes.</summary>
    private void SetCaState(TcpConnection conn, TcpCaState state)
    {
        ref var sk = ref _socks[conn.Id];
        CaSetState(conn.Ops, ref sk, state);
        sk.IcskCaState = state;
    }

    private void Close(TcpConnection conn)
    {
        if (conn.State == TcpConnectionState.Closed)
        {
            return;
        }
        conn.State = TcpConnectionState.Closed;
        conn.EndTime = _sim.Now;
        StopRto(conn);
        _sim.Cancel(conn.PaceTimer);
        _sim.Cancel(conn.DelackTimer);
        using (EnterCa(conn))
        {
            // tcp_cleanup_congestion_control: release, then drop the module (struct_ops map) reference.
            CaVoid(conn.Ops.Release, ref _socks[conn.Id], TcpCaMember.Release);
        }
        TcpCongestionRegistry.Release(conn.Ops);
        if (conn.ReceiverReady)
        {
            CaVoid(conn.ReceiverOps.Release, ref _rcvSocks[conn.Id], TcpCaMember.Release); // the receiving socket closes with the flow
        }
        _bpf?.FreeSocketStorage(_socks[conn.Id].SocketId);
        _bpf?.FreeSocketStorage(_rcvSocks[conn.Id].SocketId);
        Updated?.Invoke(conn);
    }

    /// <summary>
    /// Moves every open socket that uses <paramref name="consumer"/>'s algorithm to the default, as
    /// tcp_reinit_congestion_control (net/ipv4/tcp_cong.c) would: what an ejected consumer's flows do next.
    /// </summary>
    /// <returns>The connections moved.</returns>
    public IReadOnlyList<TcpConnection> MoveToDefault(ConsumerGuard consumer)
    {
        var moved = new List<TcpConnection>();
        foreach (var conn in _connections)
        {
            if (conn.Ops.Guard == consumer && conn.State != TcpConnectionState.Closed)
            {
                var ca = _registry.AssignDefault();
                if (ca.Guard is { IsFaulted: true })
                {
                    TcpCongestionRegistry.Release(ca); // the default itself is the ejected one: reno, as the kernel falls back
                    ca = Reno.Ops;
                }
                ReinitCongestionControl(conn, ca);
                moved.Add(conn);
            }
        }
        return moved;
    }

    /// <summary>
    /// tcp_reinit_congestion_control: tcp_cleanup_congestion_control (release, then the reference goes), the new
    /// algorithm with a zeroed icsk_ca_priv, and — unless the socket is closed — tcp_init_congestion_control
    /// (prior_ssthresh 0, init). A socket still in SYN_SENT is initialised again when it is established.
    /// </summary>
    private void ReinitCongestionControl(TcpConnection conn, TcpCongestionOps ca)
    {
        ref var sk = ref _socks[conn.Id];
        using (EnterCa(conn))
        {
            CaVoid(conn.Ops.Release, ref sk, TcpCaMember.Release); // a faulted consumer's guard refuses it
        }
        TcpCongestionRegistry.Release(conn.Ops);
        conn.Ops = ca;
        sk.IcskCaPriv = default;
        sk.PriorSsthresh = 0;
        if (conn.State == TcpConnectionState.Established)
        {
            using (EnterCa(conn))
            {
                CaVoid(ca.Init, ref sk, TcpCaMember.Init);
            }
        }
    }

    ref TcpSock ITcpSocketControl.Sock(int socketId) => ref socketId > 0 ? ref _socks[socketId - 1] : ref _rcvSocks[-socketId - 1];

    BpfResult ITcpSocketControl.SetCongestionControl(int socketId, string name)
    {
        if (socketId <= 0 || socketId > _connections.Count)
        {
            return BpfResult.Fail(Errno.EINVAL, "only a sending socket's algorithm can be changed in bpfsim");
        }
        var conn = _connections[socketId - 1];
        var r = _registry.TryAcquire(name, out var ca);
        if (!r.IsOk)
        {
            return r;
        }
        if (ca == conn.Ops)
        {
            TcpCongestionRegistry.Release(ca); // no change asking for the current one
            return BpfResult.Ok;
        }
        ReinitCongestionControl(conn, ca);
        return BpfResult.Ok;
    }

    string ITcpSocketControl.CongestionControlName(int socketId) =>
        socketId > 0 ? _connections[socketId - 1].Ops.Name : _connections[-socketId - 1].ReceiverOps.Name;

    /// <summary>Closes every open connection (end of a run): sockets release their algorithms.</summary>
    public void CloseAll()
    {
        foreach (var conn in _connections)
        {
            Close(conn);
        }
    }
}
