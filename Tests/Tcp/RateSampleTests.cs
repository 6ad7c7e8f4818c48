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

        public TcpCongestionOps Ops => new()
        {
            Name = "rs_probe",
            Ssthresh = TcpCongKfuncs.RenoSsthresh,
            UndoCwnd = TcpCongKfuncs.RenoUndoCwnd,
            CongControl = (ref TcpSock sk, uint ack, int flag, in RateSample rs) => Samples.Add((rs, sk.Lost, sk.MinRttUs)),
        };
    }

    private static (Probe Probe, TcpConnection Flow) Run(LossModel loss, long bytes)
    {
        var sc = new TcpScenario(new DumbbellOptions { BottleneckLoss = loss });
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
}
