using Bogus;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The three-way handshake under loss as Linux 6.12 does it: SYN timeouts (tcp_retransmit_timer / tcp_write_timeout in
/// net/ipv4/tcp_timer.c; TCP_TIMEOUT_INIT 1 s, net.ipv4.tcp_syn_linear_timeouts 4, tcp_syn_retries 6), the receiving
/// host's request socket (reqsk_timer_handler in net/ipv4/inet_connection_sock.c, tcp_synack_retries 5; tcp_check_req
/// in tcp_minisocks.c), the RTT sample after a retransmitted SYN (tcp_ack_update_rtt's TSecr fallback) and the initial
/// window (tcp_init_transfer). Paths are 100 Mbit/s with 5 ms each way (10 ms RTT); arrival times are exact for SYNs
/// and within 0.1 ms otherwise (serialization and the receiving NIC's 50 µs interrupt coalescing).
/// </summary>
[Category("Tcp")]
public sealed class HandshakeTests
{
    private const double RttMs = 10;

    /// <summary>A SYN's (or SYN-ACK's) trip to the script: 5 ms plus 52 bytes at 100 Mbit/s.</summary>
    private const double OneWayS = 0.005 + 52 * 8 / 1e8;

    private static double[] Seconds(IEnumerable<long> ns) => [.. ns.Select(t => t / 1e9)];

    [Test]
    public void SynLostOnce_RetransmittedAt1s_ConnectsAfter1sPlusRtt()
    {
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 100 * ScriptedPath.Mss);
        path.Data.DropSyn = n => n == 1;
        path.RunFor(3);
        // The SYN leaves at 0 and, on TCP_TIMEOUT_INIT, again at 1 s; it reaches the script 5 ms later each time.
        Assert.That(Seconds(path.Data.SynTimesNs), Is.EqualTo(new[] { OneWayS, 1 + OneWayS }).Within(1e-9));
        Assert.That(flow.Stats.SynRetransmits, Is.EqualTo(1));
        Assert.That(flow.ConnectTime!.Value.TotalSeconds * 1e3, Is.EqualTo(1000 + RttMs).Within(0.1));
        Assert.That(flow.ConnectFailed, Is.False);
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(100 * ScriptedPath.Mss), "the transfer then completes");
    }

    [Test]
    public void SynLostOnce_RttSampleFromTsecrSpansTheTimeout()
    {
        // Karn: the retransmitted SYN gives no sample of its own, so tcp_rtt_tsopt_us uses the SYN-ACK's TSecr — the
        // request's ts_recent, i.e. the TSval of the SYN that made it. That SYN is the retransmission (the first was
        // lost), so the sample is the RTT in whole ms; srtt starts there.
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 100 * ScriptedPath.Mss);
        path.Data.DropSyn = n => n == 1;
        ref var sk = ref path.Stack.Sock(flow.Id);
        path.RunFor(1.0105);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Established));
        Assert.That(flow.Stats.RttMinMs, Is.EqualTo(RttMs), "the first sample: TSecr-based, in whole ms");
        Assert.That(sk.IcskCaState, Is.EqualTo(TcpCaState.Open));
    }

    [TestCase(1, 10u)]
    [TestCase(2, 1u)]
    public void SynLost_TimeoutSsthreshRestoredToInfiniteWhenEstablished(int lost, uint cwnd)
    {
        // The SYN timeout's tcp_enter_loss asks cubic for ssthresh (bictcp_recalc_ssthresh with cwnd 10:
        // 10·717/1024 = 7); tcp_init_transfer's tcp_init_metrics (net/ipv4/tcp_metrics.c, since 6.6) sets it back to
        // TCP_INFINITE_SSTHRESH before the initial window and tcp_init_congestion_control, so the transfer starts in
        // slow start — from 10 segments after one lost SYN, from 1 after two.
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 100 * ScriptedPath.Mss);
        path.Data.DropSyn = n => n <= lost;
        ref var sk = ref path.Stack.Sock(flow.Id);
        path.RunFor(lost + 0.005); // the last SYN is out (at `lost` s); its SYN-ACK comes 10 ms after it
        Assert.That((flow.State, sk.SndSsthresh), Is.EqualTo((TcpConnectionState.SynSent, 7u)), "reduced by the SYN timeout");
        path.RunFor(0.0055);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Established));
        Assert.That((sk.SndSsthresh, sk.SndCwnd), Is.EqualTo((TcpSock.InfiniteSsthresh, cwnd)));
    }

    [TestCase(0, 10u)]
    [TestCase(1, 1u)]
    public void SynAck_CountsTheSynDelivered_AndPacesTheFirstFlight_BeforeInit(int lostSyns, uint cwndAtSynAck)
    {
        // The SYN-ACK's tcp_ack runs before tcp_init_transfer: tcp_clean_rtx_queue counts the SYN in tp->delivered, and
        // tcp_cong_control (no cong_control member; no data acked, so no cong_avoid) ends in tcp_update_pacing_rate:
        // mss × (USEC_PER_SEC / 100 << 3) × 200 (slow start) × cwnd / srtt_us (×8). The cwnd is the one the SYN-ACK
        // found — 10, or 1 after a SYN timeout's tcp_enter_loss — since tcp_init_transfer sets the initial window after.
        (uint Delivered, ulong PacingRate, uint SrttUs, uint Mss)? atInit = null;
        var path = new ScriptedPath();
        var probe = new TcpCongestionOps
        {
            Name = "init_probe",
            Ssthresh = TcpCongKfuncs.RenoSsthresh,
            CongAvoid = TcpCongKfuncs.RenoCongAvoid,
            UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
            Init = (ref TcpSock sk) => atInit = (sk.Delivered, sk.SkPacingRate, sk.SrttUs, sk.MssCache),
        };
        Assert.That(path.System.Registry.Register(probe).IsOk);
        var flow = path.Open(cc: "init_probe", bytes: 100 * ScriptedPath.Mss);
        path.Data.DropSyn = n => n <= lostSyns;
        path.RunFor(lostSyns + 0.5);
        Assert.That(flow.Stats.SynRetransmits, Is.EqualTo(lostSyns));
        Assert.That(atInit, Is.Not.Null);
        var (delivered, rate, srtt, mss) = atInit!.Value;
        Assert.That(delivered, Is.EqualTo(1u), "the SYN");
        Assert.That(srtt, Is.Not.Zero);
        Assert.That(rate, Is.EqualTo((ulong)mss * (1_000_000 / 100 << 3) * 200 * cwndAtSynAck / srtt));
    }

    [Test]
    public void SynAckLost_SynRetransmissionAt1s_GetsANewSynAck_SampleSpansTheTimeout()
    {
        // The SYN sent again at 1 s reaches a pending request: tcp_check_req answers it with inet_rtx_syn_ack (the
        // request timer, armed for the same jiffy, sends one too). Every SYN-ACK echoes the first SYN's TSval (a
        // retransmitted SYN does not update ts_recent), so the sender's TSecr-based sample is 1 s + RTT.
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 100 * ScriptedPath.Mss);
        path.Acks.DropSynAck = n => n == 1;
        path.RunFor(3);
        Assert.That(flow.Stats.SynRetransmits, Is.EqualTo(1));
        Assert.That(flow.Stats.SynAckRetransmits, Is.GreaterThanOrEqualTo(1));
        Assert.That(flow.ConnectTime!.Value.TotalSeconds, Is.EqualTo(1.010).Within(1e-4));
        Assert.That(flow.Stats.RttMaxMs, Is.EqualTo(1000 + RttMs).Within(1e-9), "the handshake's sample, TSecr of the first SYN: the timeout is in it");
        Assert.That(flow.Stats.BytesAcked, Is.EqualTo(100 * ScriptedPath.Mss));
    }

    [Test]
    public void SynAckLost_NoSynRetransmission_RequestTimerResendsAt1s3s7s()
    {
        // Only the receiving host's timer: every SYN after the first is lost, so no SYN-ACK answers a retransmitted SYN.
        // reqsk_timer_handler resends 1, 3 and 7 s after the request was made (TCP_TIMEOUT_INIT << num_timeout).
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 10 * ScriptedPath.Mss);
        path.Data.DropSyn = n => n > 1;
        path.Acks.DropSynAck = n => n <= 3;
        path.RunFor(10);
        // SYN-ACKs leave at 0.005, 1.005, 3.005, 7.005 s (on the tick) and arrive 5 ms later.
        Assert.That(Seconds(path.Acks.SynAckTimesNs).Take(4), Is.EqualTo(new[] { 0.010, 1.010, 3.010, 7.010 }).Within(1e-4));
        Assert.That(flow.ConnectTime!.Value.TotalSeconds, Is.EqualTo(7.010).Within(1e-4));
        Assert.That(flow.Stats.SynAckRetransmits, Is.EqualTo(3));
    }

    [Test]
    public void SynAckAlwaysLost_RequestDroppedAfterFiveRetries()
    {
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 10 * ScriptedPath.Mss);
        path.Data.DropSyn = n => n > 1;
        path.Acks.DropSynAck = _ => true;
        path.RunFor(200);
        // tcp_synack_retries = 5: SYN-ACKs at 0, 1, 3, 7, 15, 31 s; at 63 s the request is dropped.
        Assert.That(Seconds(path.Acks.SynAckTimesNs), Is.EqualTo(new[] { 0.010, 1.010, 3.010, 7.010, 15.010, 31.010 }).Within(1e-4));
        Assert.That(flow.Stats.SynAckGaveUp, Is.True);
        Assert.That(flow.ConnectFailed, Is.True);
    }

    [Test]
    public void SynAlwaysLost_LinearTimeoutsDefault_ElevenSynsThenEtimedoutAt131s()
    {
        // 6.12 defaults: tcp_syn_retries 6 + tcp_syn_linear_timeouts 4 = 10 retransmissions; timeouts of 1 s five times
        // (total_rto ≤ 4 keeps icsk_rto), then 2, 4, ..., 64 s. ip-sysctl.rst: "the final timeout ... after 131 seconds".
        var path = new ScriptedPath();
        var flow = path.Open(cc: "cubic", bytes: 10 * ScriptedPath.Mss);
        path.Data.DropSyn = _ => true;
        path.RunFor(200);
        Assert.That(Seconds(path.Data.SynTimesNs), Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 }.Select(s => s + OneWayS)).Within(1e-9));
        Assert.That(flow.ConnectFailed, Is.True);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        Assert.That(flow.EndTime.TotalSeconds, Is.EqualTo(131).Within(1e-9));
        Assert.That(flow.Stats.SynRetransmits, Is.EqualTo(10));
        Assert.That(flow.ConnectTime, Is.Null);
        Assert.That(flow.Stats.BytesAcked, Is.Zero);
    }

    [Test]
    public void SynAlwaysLost_NoLinearTimeouts_SevenSynsDoubling_EtimedoutAt127s()
    {
        // tcp_syn_linear_timeouts = 0 (the behaviour before 6.5): SYNs at 0, 1, 3, 7, 15, 31, 63 s, ETIMEDOUT at 127 s.
        var path = new ScriptedPath(new TcpStackOptions { SynLinearTimeouts = 0 });
        var flow = path.Open(cc: "cubic", bytes: 10 * ScriptedPath.Mss);
        path.Data.DropSyn = _ => true;
        path.RunFor(200);
        Assert.That(Seconds(path.Data.SynTimesNs), Is.EqualTo(new[] { 0, 1, 3, 7, 15, 31, 63 }.Select(s => s + OneWayS)).Within(1e-9));
        Assert.That(flow.ConnectFailed, Is.True);
        Assert.That(flow.EndTime.TotalSeconds, Is.EqualTo(127).Within(1e-9));
    }

    [Test]
    public void SynLostTwice_InitialWindowIsOne()
    {
        // tcp_init_transfer: total_retrans > 1 with undo_marker set (the first SYN timeout's tcp_enter_loss) → cwnd 1;
        // after a single SYN retransmission the window is TCP_INIT_CWND.
        static uint CwndAfter(int lost)
        {
            var path = new ScriptedPath();
            var flow = path.Open(cc: "reno", bytes: 100 * ScriptedPath.Mss);
            path.Data.DropSyn = n => n <= lost;
            path.RunFor(lost + 0.0105);
            Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Established));
            return path.Stack.Sock(flow.Id).PacketsOut;
        }
        Assert.That(CwndAfter(1), Is.EqualTo(10u), "one SYN retransmission: the whole initial window goes");
        Assert.That(CwndAfter(2), Is.EqualTo(1u), "two: one segment");
    }

    private static IEnumerable<int> Seeds => Enumerable.Range(1, 16);

    [TestCaseSource(nameof(Seeds))]
    public void RandomSynLoss_RetransmissionTimesFollowTheBackoffSeries(int seed)
    {
        // Whatever SYNs are lost, the nth SYN leaves at the nth point of the series (1 s × tcp_syn_linear_timeouts,
        // then doubling), and the flow connects one RTT after the first SYN through, or fails at the series' end.
        var random = new Randomizer(seed);
        int linear = random.Int(0, 4);
        var options = new TcpStackOptions { SynLinearTimeouts = linear };
        var path = new ScriptedPath(options);
        var flow = path.Open(cc: "cubic", bytes: 20 * ScriptedPath.Mss);
        double p = random.Double(0.3, 0.95);
        var draw = new Randomizer(seed * 7919);
        path.Data.DropSyn = _ => draw.Double() < p;
        path.RunFor(200);
        var expected = new List<double> { 0 };
        double rto = 1;
        for (int k = 1; k <= options.SynRetries + linear; k++)
        {
            expected.Add(expected[^1] + rto);
            if (k > linear)
            {
                rto *= 2;
            }
        }
        var sent = Seconds(path.Data.SynTimesNs).Select(t => t - OneWayS).ToArray();
        Assert.That(sent, Is.EqualTo(expected.Take(sent.Length)).Within(1e-9));
        if (flow.ConnectFailed)
        {
            Assert.That(sent, Has.Length.EqualTo(expected.Count));
            Assert.That(flow.EndTime.TotalSeconds, Is.EqualTo(expected[^1] + rto).Within(1e-9), "ETIMEDOUT when the last SYN times out");
        }
        else
        {
            Assert.That(flow.ConnectTime!.Value.TotalSeconds, Is.EqualTo(sent[^1] + RttMs / 1e3).Within(1e-4));
            Assert.That(flow.Stats.SynRetransmits, Is.EqualTo(sent.Length - 1));
            Assert.That(flow.Stats.BytesAcked, Is.EqualTo(20 * ScriptedPath.Mss));
        }
    }
}
