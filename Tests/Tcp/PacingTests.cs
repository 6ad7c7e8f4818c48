using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Internal pacing as net/ipv4/tcp_output.c does it (tcp_pacing_check, tcp_update_skb_after_send, EDT), observed
/// where segments leave the sending socket.
/// </summary>
[Category("Tcp")]
public sealed class PacingTests
{
    private const int Mss = 1448;

    /// <summary>tcp_update_skb_after_send: len_ns = skb->len × NSEC_PER_SEC / sk_pacing_rate, in whole ns.</summary>
    private static long LenNs(long bytes, ulong rate) => (long)((ulong)bytes * 1_000_000_000UL / rate);

    [TestCase(1_999_999UL, 1u)]
    [TestCase(1_000_000UL, 1u)]
    [TestCase(999_999UL, 0u)]
    [TestCase(4_500_000UL, 4u)]
    public void TimerPacingDelay_RoundsDownToJiffies(ulong aheadNs, uint jiffies)
    {
        // include/net/tcp.h tcp_pacing_delay: nsecs_to_jiffies(tcp_wstamp_ns − tcp_clock_cache), which for HZ = 1000
        // divides by 10^6 ns and drops the remainder; tcp_reset_xmit_timer adds that to the timer's delay.
        const ulong clock = 5_000_000_123;
        Assert.That(TcpStack.PacingDelayJiffies(clock + aheadNs, clock, Jiffies.DefaultHz), Is.EqualTo(jiffies));
        Assert.That(TcpStack.PacingDelayJiffies(clock - aheadNs, clock, Jiffies.DefaultHz), Is.Zero, "a departure time in the past adds nothing");
        Assert.That(TcpStack.PacingDelayJiffies(clock, clock, Jiffies.DefaultHz), Is.Zero);
    }

    [Test]
    public void PacingDelay_CountsPayloadBytesOnly()
    {
        // skb->len of the write-queue skb (the clone sent carries the headers): 1448 bytes, not the 1500 on the wire.
        const ulong rate = 1_000_000;
        var (sc, path, _) = FixedRatePacer.Start(rate, tso: false);
        sc.RunFor(0.3);
        var d = path.Data;
        Assert.That(d, Has.Count.GreaterThan(100));
        long gap = LenNs(Mss, rate);
        Assert.That(gap, Is.EqualTo(1_448_000), "1448 B at 1 MB/s");
        for (int i = 11; i < d.Count; i++)
        {
            Assert.That(d[i].TimeNs - d[i - 1].TimeNs, Is.EqualTo(gap), $"segment {i}");
        }
        // Hence payload leaves at the pacing rate itself (the wire carries 1500/1448 of it).
        double seconds = (d[^1].TimeNs - d[10].TimeNs) / 1e9;
        Assert.That((d.Count - 11) * (double)Mss / seconds, Is.EqualTo((double)rate).Within(0.001).Percent);
    }

    [Test]
    public void FirstTenSegments_LeaveUnpaced_ThenOnePacingStepPerSegment()
    {
        // "Original sch_fq does not pace first 10 MSS": no step until data_segs_out (this skb included) reaches 10,
        // so the first ten leave at once and the 11th waits for the 10th's len_ns.
        const ulong rate = 2_000_000;
        var (sc, path, _) = FixedRatePacer.Start(rate, tso: false);
        sc.RunFor(0.1);
        var d = path.Data;
        long t0 = d[0].TimeNs;
        Assert.That(d.Take(10).Select(x => x.TimeNs - t0), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)),
            "ten segments back to back through the 1 ns tap");
        Assert.That(d[10].TimeNs - t0, Is.EqualTo(LenNs(Mss, rate)), "the 11th leaves one len_ns after the burst");
    }

    [Test]
    public void IdleCredit_TakesHalfTheFirstDelayOff_NotMore()
    {
        // tcp_update_skb_after_send: after an idle second tcp_wstamp_ns lags far behind now; the lag is credit, but
        // it can take at most len_ns / 2 off ("OS jitter"), so the next burst is not sent at line rate.
        const ulong rate = 1_000_000;
        var (sc, path, _) = FixedRatePacer.Start(rate, tso: false, writes: new TcpWritePattern(20 * Mss, SimTime.FromSeconds(1)));
        sc.RunFor(1.2);
        var second = path.Data.Where(x => x.TimeNs >= 1_000_000_000).ToList();
        Assert.That(second, Has.Count.EqualTo(20));
        long len = LenNs(Mss, rate);
        Assert.That(second[1].TimeNs - second[0].TimeNs, Is.EqualTo(len - len / 2), "credit: half of len_ns");
        Assert.That(second[2].TimeNs - second[1].TimeNs, Is.EqualTo(len), "no credit left once tcp_wstamp_ns caught up");
    }

    [Test]
    public void UnpacedCubic_IsAckClocked_NoDepartureBetweenAcks()
    {
        // CUBIC never sets SK_PACING_NEEDED and there is no fq: tcp_pacing_check lets everything through, so data
        // leaves only when the connection starts or an ACK arrives (TSO deferral waits for a later ACK, never a timer).
        var sc = new TcpScenario(stack: new TcpStackOptions { Gro = false });
        var path = new TappedPath(sc.Net, bottleneckBps: 100_000_000);
        Assert.That(sc.Stack.Open(path.Connect, "cubic", SimTime.Zero, out var flow).IsOk);
        sc.RunFor(1);
        Assert.That(sc.Stack.Sock(flow!.Id).SkPacingStatus, Is.Zero);
        var ackTimes = path.Acks.Select(a => a.TimeNs).ToArray();
        long start = path.Data[0].TimeNs;
        int checkedBursts = 0;
        foreach (var burst in path.Bursts())
        {
            long t = burst[0].TimeNs - 1; // the tap adds 1 ns
            int i = Array.BinarySearch(ackTimes, t);
            Assert.That(i, Is.GreaterThanOrEqualTo(0), $"a burst left at {t} ns with no ACK arriving then");
            checkedBursts++;
        }
        Assert.That(checkedBursts, Is.GreaterThan(500));
        // SK_PACING_NONE: tcp_update_skb_after_send leaves tcp_wstamp_ns at the last departure, never ahead of it.
        Assert.That(sc.Stack.Sock(flow.Id).TcpWstampNs, Is.EqualTo((ulong)(path.Bursts()[^1][0].TimeNs - 1)));
        Assert.That(path.Data.Take(10).All(x => x.TimeNs - start < 10), "the initial window leaves at once (two skbs of half of it: tcp_cwnd_test)");
    }

    [Test]
    public void Bbr_CappedBySkMaxPacingRate_DeliversThatRateOfPayload()
    {
        // bbr_bw_to_pacing_rate caps at sk_max_pacing_rate (SO_MAX_PACING_RATE), and pacing spaces payload bytes:
        // goodput reaches the cap itself. Pacing the 1500-byte wire size instead gave 3.6 % less (1448 / 1500).
        const ulong cap = 1_000_000; // 8 Mbit/s on a 100 Mbit/s bottleneck
        var sc = new TcpScenario();
        var flow = sc.Flow("bbr");
        sc.Stack.Sock(flow.Id).SkMaxPacingRate = cap;
        sc.RunFor(6);
        Assert.That(sc.Stack.Sock(flow.Id).SkPacingRate, Is.LessThanOrEqualTo(cap));
        double goodput = (double)flow.Stats.BytesAcked / 6;
        TestContext.Out.WriteLine($"goodput {goodput:N0} B/s against a cap of {cap:N0}");
        Assert.That(goodput, Is.LessThanOrEqualTo(cap));
        Assert.That(goodput, Is.GreaterThan(cap * 0.985), "short of the cap only by the handshake and the first RTT");
    }
    [Test]
    public void HeadRetransmission_RtoIncludesItsOwnPacingDelay()
    {
        // net/ipv4/tcp_output.c tcp_xmit_retransmit_queue re-arms ICSK_TIME_RETRANS after tcp_retransmit_skb returned,
        // so __tcp_transmit_skb's tcp_update_skb_after_send has already moved tcp_wstamp_ns on by the retransmission's
        // own len_ns, and tcp_reset_xmit_timer adds that as tcp_pacing_delay (whole jiffies) to icsk_rto. At 200 kB/s
        // one segment is 7.24 ms of pacing: the RTO must be due 7 jiffies later than without it.
        const ulong rate = 200_000;
        var (sc, path, flow) = FixedRatePacer.Start(rate, tso: false);
        uint lostSeq = 1 + 30u * Mss;
        bool dropped = false;
        (long TimeNs, long DueNs, ulong WstampNs, XmitTimer Pending, long RtoNs)? atRetransmit = null;
        path.OnDeparture = d =>
        {
            if (d.Seq != lostSeq)
            {
                return false;
            }
            if (!dropped)
            {
                dropped = true;
                return true;
            }
            // The tap runs 1 ns after the socket sent the segment, before any other event.
            atRetransmit ??= (d.TimeNs - 1, sc.Net.Simulator.DueTime(flow.RtoTimer)!.Value.Nanoseconds,
                sc.Stack.Sock(flow.Id).TcpWstampNs, flow.Pending, Math.Min(flow.RtoNs << flow.Backoff, 120_000_000_000L));
            return false;
        };
        sc.RunFor(1);
        Assert.That(atRetransmit, Is.Not.Null, "segment 30 was retransmitted");
        var (t, due, wstamp, pending, rtoNs) = atRetransmit!.Value;
        Assert.That(pending, Is.EqualTo(XmitTimer.Retrans));
        long paceJiffies = (long)((wstamp - (ulong)t) / 1_000_000);
        Assert.That(paceJiffies, Is.EqualTo(7), "the retransmission's own pacing step, rounded down to jiffies");
        long rtoJiffies = (long)Jiffies.UsecsToJiffies((uint)(rtoNs / 1000), Jiffies.DefaultHz);
        Assert.That(due, Is.EqualTo((t / 1_000_000 + rtoJiffies + paceJiffies) * 1_000_000));
    }
    [Test]
    public void RtoRetransmission_BackedOffRtoWithoutPacingDelay()
    {
        // net/ipv4/tcp_timer.c tcp_retransmit_timer: tcp_enter_loss (which leaves tcp_wstamp_ns alone), then
        // tcp_retransmit_skb of the head — directly, with no tcp_pacing_check and no re-arming — and out_reset_timer's
        // inet_csk_reset_xmit_timer, which adds no tcp_pacing_delay. So the backed-off RTO is due exactly icsk_rto
        // jiffies after the timeout, although the retransmission moved tcp_wstamp_ns 3.62 ms ahead (7.24 ms at 200 kB/s,
        // half of it taken off as idle credit).
        const ulong rate = 200_000;
        var (sc, path, flow) = FixedRatePacer.Start(rate, tso: false, cwnd: 20);
        (long TimeNs, long DueNs, ulong WstampNs, XmitTimer Pending, long RtoNs)? atRto = null;
        path.OnDeparture = d =>
        {
            if (flow.Stats.Timeouts == 0)
            {
                return d.TimeNs >= 100_000_000; // a black hole from 100 ms on, until the RTO
            }
            atRto ??= (d.TimeNs - 1, sc.Net.Simulator.DueTime(flow.RtoTimer)!.Value.Nanoseconds,
                sc.Stack.Sock(flow.Id).TcpWstampNs, flow.Pending, Math.Min(flow.RtoNs << flow.Backoff, 120_000_000_000L));
            return false;
        };
        sc.RunFor(2);
        Assert.That(atRto, Is.Not.Null, "an RTO fired and retransmitted");
        var (t, due, wstamp, pending, rtoNs) = atRto!.Value;
        Assert.That(pending, Is.EqualTo(XmitTimer.Retrans));
        Assert.That((long)wstamp - t, Is.EqualTo(LenNs(Mss, rate) - LenNs(Mss, rate) / 2), "the retransmission's pacing step");
        long rtoJiffies = (long)Jiffies.UsecsToJiffies((uint)(rtoNs / 1000), Jiffies.DefaultHz);
        Assert.That(due, Is.EqualTo((t / 1_000_000 + rtoJiffies) * 1_000_000), "icsk_rto, no pacing delay");
    }
    [Test]
    public void RackReoTimer_WithoutPacingDelay()
    {
        // net/ipv4/tcp_recovery.c tcp_rack_mark_lost arms the REO timer with inet_csk_reset_xmit_timer, not
        // tcp_reset_xmit_timer: no tcp_pacing_delay. At 20 kB/s a 4-segment skb is 290 ms of pacing; its third segment
        // is lost, the fourth SACKed, and RACK waits only its reordering window (min_rtt/4) plus TCP_TIMEOUT_MIN.
        const ulong rate = 20_000;
        var (sc, path, flow) = FixedRatePacer.Start(rate, tso: true, minTsoSegs: 4, cwnd: 40);
        long last = -1000;
        int inBurst = 0;
        bool dropped = false;
        path.OnDeparture = d =>
        {
            inBurst = d.TimeNs - last > 100 ? 0 : inBurst + 1;
            last = d.TimeNs;
            if (!dropped && d.TimeNs > 1_000_000_000 && inBurst == 2)
            {
                dropped = true;
                return true;
            }
            return false;
        };
        (long NowNs, long DueNs, ulong WstampNs)? atReo = null;
        sc.Stack.Updated += c =>
        {
            if (atReo is null && c.Pending == XmitTimer.ReoTimeout)
            {
                atReo = (sc.Net.Simulator.Now.Nanoseconds, sc.Net.Simulator.DueTime(c.RtoTimer)!.Value.Nanoseconds, sc.Stack.Sock(c.Id).TcpWstampNs);
            }
        };
        sc.RunFor(3);
        Assert.That(dropped);
        Assert.That(atReo, Is.Not.Null, "the REO timer was armed");
        var (now, due, wstamp) = atReo!.Value;
        Assert.That((long)wstamp - now, Is.GreaterThan(100_000_000L), "the next departure is far ahead");
        Assert.That(due - now, Is.LessThan(20_000_000L), "reo_wnd + TCP_TIMEOUT_MIN only");
    }
}
