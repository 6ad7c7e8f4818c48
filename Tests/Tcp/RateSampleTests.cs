using BpfSim.Core.Simulation;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The rate sample the stack hands cong_control, against tcp_rate_gen and tcp_ack (net/ipv4/tcp_rate.c,
/// tcp_input.c): losses are the packets freshly marked lost by this ACK (tp->lost − prior_lost), intervals shorter
/// than min_rtt are invalid, and a sample without timing information has delivered = interval = −1.
/// </summary>
[Category("Tcp")]
public sealed class RateSampleTests
{
    /// <summary>What a recording cong_control saw: every sample, with tp->lost and tcp_min_rtt at the time.</summary>
    private sealed class Probe
    {
        public List<(RateSample Rs, uint Lost, uint MinRtt)> Samples { get; } = [];

        /// <summary>tp->tcp_mstamp (µs) when each sample was handed over.</summary>
        public List<ulong> Now { get; } = [];

        /// <summary>How many samples had been handed over when init ran.</summary>
        public int SamplesBeforeInit { get; private set; } = -1;

        public TcpCongestionOps Ops => new()
        {
            Name = "rs_probe",
            Ssthresh = TcpCongKfuncs.RenoSsthresh,
            UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
            Init = (ref TcpSock sk) => SamplesBeforeInit = Samples.Count,
            CongControl = (ref TcpSock sk, uint ack, int flag, in RateSample rs) =>
            {
                Samples.Add((rs, sk.Lost, sk.MinRttUs));
                Now.Add(sk.TcpMstamp);
            },
        };
    }

    // tcp_recovery = 0: these pin when the pre-RACK path marks losses (dupthresh on an ACK, or the RTO).
    private static (Probe Probe, TcpConnection Flow) Run(LossModel loss, long bytes)
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = loss }, stack: new TcpStackOptions { Recovery = 0 });
        var probe = new Probe();
        Assert.That(sc.System.Registry.Register(probe.Ops).IsOk);
        var flow = sc.Flow("rs_probe", bytes: bytes);
        sc.RunFor(5);
        Assert.That(flow.State, Is.EqualTo(TcpConnectionState.Closed));
        return (probe, flow);
    }

    [Test]
    public void Losses_TwoHolesInOneWindow_ReportedOnTheAckThatMarksThem()
    {
        var (probe, flow) = Run(new ScriptedLoss(30, 32), 100 * 1448);
        var lossy = probe.Samples.Where(s => s.Rs.Losses > 0).ToList();
        Assert.That(probe.Samples.Sum(s => s.Rs.Losses), Is.EqualTo(2), "each lost segment is counted once");
        Assert.That(lossy.Sum(s => s.Rs.Losses), Is.EqualTo(lossy[^1].Lost), "rs.losses adds up to tp->lost");
        Assert.That((flow.Stats.FastRecoveries, flow.Stats.Timeouts), Is.EqualTo((1L, 0L)));
    }

    [Test]
    public void Losses_MarkedByTheRetransmitTimer_NotInAnyAckSample()
    {
        // The last segment is lost: tcp_enter_loss marks it from the timer, between ACKs, so tp->lost grows while
        // no ACK's sample reports it (prior_lost is read at the start of tcp_ack).
        var (probe, flow) = Run(new ScriptedLoss(20), 20 * 1448);
        Assert.That(flow.Stats.Timeouts, Is.EqualTo(1));
        Assert.That(probe.Samples[^1].Lost, Is.EqualTo(1u));
        Assert.That(probe.Samples.Sum(s => s.Rs.Losses), Is.Zero);
    }

    [Test]
    public void Interval_NeverBelowMinRtt_InvalidSamplesAreMinusOne()
    {
        var (probe, _) = Run(LossModel.None, 200 * 1448);
        var valid = probe.Samples.Where(s => s.Rs.IntervalUs > 0).ToList();
        Assert.That(valid, Is.Not.Empty);
        Assert.That(valid.All(s => s.Rs.IntervalUs >= s.MinRtt && s.Rs.Delivered > 0), Is.True);
        Assert.That(probe.Samples.Where(s => s.Rs.Delivered < 0).All(s => s.Rs.IntervalUs == -1), Is.True);
        Assert.That(probe.Samples[0].MinRtt, Is.InRange(24_000u, 24_100u), "tcp_min_rtt from the handshake on: 2 × (1 + 10 + 1) ms");
    }

    [Test]
    public void SynAck_HandsCongControlASampleWithoutTiming_BeforeInit()
    {
        // tcp_rcv_synsent_state_process → tcp_ack → tcp_cong_control before tcp_finish_connect → tcp_init_transfer →
        // init. tcp_connect queues the SYN (packets_out 1) before sending it, so tcp_rate_skb_sent never stamped it:
        // tx.delivered_mstamp 0, tcp_rate_skb_delivered returns early, and tcp_rate_gen hands over delivered = interval
        // = -1 with prior_mstamp 0, not app-limited — one packet acked (the SYN) and its RTT, nothing to measure a rate
        // from. The delivery rate stays unset until data is acked.
        var (probe, flow) = Run(LossModel.None, 20 * 1448);
        Assert.That(probe.SamplesBeforeInit, Is.EqualTo(1), "one cong_control call, then init");
        var syn = probe.Samples[0].Rs;
        Assert.That((syn.Delivered, syn.IntervalUs, syn.PriorMstamp, syn.PriorDelivered), Is.EqualTo((-1, -1L, 0UL, 0u)));
        Assert.That((syn.AckedSacked, syn.PriorInFlight, syn.Losses, syn.IsAppLimited), Is.EqualTo((1u, 1u, 0, false)));
        Assert.That(syn.RttUs, Is.InRange(24_000L, 24_100L), "the SYN's RTT: 2 × (1 + 10 + 1) ms plus serialisation");
        Assert.That(probe.Samples[1].Rs.Delivered, Is.GreaterThan(0), "the first data ACK's sample has timing");
    }

    [Test]
    public void IsAckDelayed_OnlyForALoneRuntCumulativelyAcked()
    {
        // tcp_clean_rtx_queue sets FLAG_ACK_MAYBE_DELAYED when one whole segment is cumulatively ACKed, nothing was
        // SACKed, snd_una moved by less than mss_cache, it is the only delivery since it was sent, and no CA alert;
        // tcp_ack copies it to rs.is_ack_delayed. A 500-byte transfer is exactly that; full-sized segments never are.
        var (runt, _) = Run(LossModel.None, 500);
        var data = runt.Samples.Skip(1).Where(s => s.Rs.AckedSacked > 0).ToList(); // after the SYN-ACK's sample
        Assert.That(data, Has.Count.EqualTo(1));
        Assert.That(data[0].Rs.IsAckDelayed, Is.True);

        var (bulk, _) = Run(LossModel.None, 100 * 1448);
        Assert.That(bulk.Samples.Where(s => s.Rs.AckedSacked > 0), Is.Not.Empty);
        Assert.That(bulk.Samples.Where(s => s.Rs.IsAckDelayed), Is.Empty, "snd_una advances by a whole MSS or more");
    }

    [Test]
    public void PriorMstamp_IsTheDeliveredStampAtSend_AndTheAckPhaseStartsThere()
    {
        // tcp_rate_skb_delivered: rs->prior_mstamp = scb->tx.delivered_mstamp; tcp_rate_skb_sent stamps an idle pipe's
        // first segment with its own send time (delivered_mstamp = skb->tstamp). tcp_rate_gen: a sample is valid only
        // with prior_mstamp set, and rcv_interval_us = tcp_mstamp − prior_mstamp.
        var (runt, _) = Run(LossModel.None, 500);
        int i = runt.Samples.FindIndex(1, s => s.Rs.AckedSacked > 0); // the data's, after the SYN-ACK's
        var rs = runt.Samples[i].Rs;
        // Sent into an idle pipe, so prior_mstamp is its send time: now − ca_rtt (µs stamps truncated apart: ±1).
        Assert.That((long)rs.PriorMstamp, Is.EqualTo((long)runt.Now[i] - rs.RttUs).Within(1));

        var (bulk, _) = Run(new ScriptedLoss(30), 100 * 1448);
        // From the data's samples on: the SYN left at time 0 here, so the SYN-ACK's sample has prior_mstamp 0.
        var valid = Enumerable.Range(1, bulk.Samples.Count - 1).Where(k => bulk.Samples[k].Rs.Delivered >= 0).ToList();
        Assert.That(valid, Is.Not.Empty);
        foreach (int k in valid)
        {
            var r = bulk.Samples[k].Rs;
            Assert.That(r.PriorMstamp, Is.Not.Zero);
            Assert.That((long)r.RcvIntervalUs, Is.EqualTo((long)(bulk.Now[k] - r.PriorMstamp)).Within(1), $"sample {k}");
        }
    }

    [Test]
    public void RateAppLimited_FollowsTheRecordedSample()
    {
        // tcp_rate_gen records rate_delivered/rate_interval_us with tp->rate_app_limited = rs->is_app_limited;
        // tcp_init_sock starts it at 1. A bulk sender soon records a sample that is not app-limited; an application
        // writing two segments every 100 ms leaves every sample app-limited (tcp_rate_check_app_limited).
        var bulk = new TcpScenario();
        var b = bulk.Flow("reno");
        Assert.That(b.DeliveryRateAppLimited, Is.True, "tcp_init_sock");
        bulk.RunFor(2);
        Assert.That(b.DeliveryRateAppLimited, Is.False);

        var bursts = new TcpScenario();
        var r = bursts.Stack.Open((s, rcv) => bursts.Bell.AddFlow(s, rcv), "reno", SimTime.Zero, out var conn,
            writes: new TcpWritePattern(2 * 1448, SimTime.FromMilliseconds(100)));
        Assert.That(r.IsOk, r.Reason);
        bursts.RunFor(2);
        Assert.That(conn!.DeliveryRateBps, Is.GreaterThan(0));
        Assert.That(conn.DeliveryRateAppLimited, Is.True);
    }
}
