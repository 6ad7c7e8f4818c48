using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Drives bbr's cong_control the way tcp_ack does, on a path the test describes per ACK: each ACK delivers some
/// packets at a delivery rate (packets/µs) over an RTT, and its rate sample reports that rate over that RTT, as
/// tcp_rate_gen would for a steady flow. In flight is what cwnd allows, capped at <see cref="InflightCap"/> when set.
/// The clock starts at 10 s so tcp_jiffies32 is never 0; the handshake RTT seeds srtt and tcp_min_rtt.
/// </summary>
internal sealed class BbrClock
{
    private readonly TcpSock[] _sk = new TcpSock[1];

    public BbrClock(uint handshakeRttUs = 20_000, ulong seed = 1, ulong startUs = 10_000_000)
    {
        _sk[0] = TcpTestSystem.Socket();
        ref var sk = ref Sk;
        SetTime(startUs);
        sk.SrttUs = handshakeRttUs << 3;
        sk.RttMin.Reset(sk.TcpJiffies32, handshakeRttUs);
        sk.PrandomState = seed;
        sk.DeliveredMstamp = startUs;
        Bbr.Ops.Init!(ref sk);
        sk.PacketsOut = sk.SndCwnd;
    }

    public ref TcpSock Sk => ref _sk[0];

    public ref BbrState Ca => ref BbrMath.Ca(ref Sk);

    public ulong NowUs => Sk.TcpMstamp;

    /// <summary>If set, at most this many packets are in flight (the rest of cwnd is unused, e.g. by pacing).</summary>
    public uint? InflightCap { get; set; }

    /// <summary>The rate sample of the last ACK.</summary>
    public RateSample Last { get; private set; }

    /// <summary>
    /// One ACK for <paramref name="acked"/> packets, arriving acked / rate after the previous one, with a sample of
    /// rate × rtt packets delivered over <paramref name="rttUs"/> and an RTT sample of <paramref name="rttUs"/>.
    /// </summary>
    public void Ack(double ratePerUs, uint rttUs, uint acked = 2, int losses = 0)
    {
        ref var sk = ref Sk;
        SetTime(NowUs + (ulong)Math.Ceiling(acked / ratePerUs));
        uint priorInFlight = sk.PacketsInFlight;
        sk.Delivered += acked;
        sk.DeliveredMstamp = sk.TcpMstamp;
        sk.Lost += (uint)losses;
        if (sk.AppLimited != 0 && TcpTime.After(sk.Delivered, sk.AppLimited))
        {
            sk.AppLimited = 0;
        }
        int delivered = (int)Math.Clamp(Math.Round(ratePerUs * rttUs), acked, sk.Delivered);
        var rs = new RateSample
        {
            PriorDelivered = sk.Delivered - (uint)delivered,
            Delivered = delivered,
            IntervalUs = rttUs,
            RttUs = rttUs,
            Losses = losses,
            AckedSacked = acked,
            PriorInFlight = priorInFlight,
            IsAppLimited = sk.AppLimited != 0,
        };
        Last = rs;
        Bbr.Ops.CongControl!(ref sk, sk.SndUna, 0, rs);
        sk.PacketsOut = Math.Min(sk.SndCwnd, InflightCap ?? uint.MaxValue);
    }

    /// <summary>ACKs until BBR starts its next packet-timed round (the ACK that starts it included).</summary>
    public void Round(double ratePerUs, uint rttUs)
    {
        uint start = Ca.RttCnt;
        for (int i = 0; i < 1_000_000 && Ca.RttCnt == start; i++)
        {
            Ack(ratePerUs, rttUs);
        }
    }

    /// <summary>ACKs until <paramref name="until"/> holds after one, at most <paramref name="max"/> of them.</summary>
    /// <returns>Whether the condition was met.</returns>
    public bool AckUntil(double ratePerUs, uint rttUs, Func<BbrClock, bool> until, int max = 1_000_000)
    {
        for (int i = 0; i < max; i++)
        {
            Ack(ratePerUs, rttUs);
            if (until(this))
            {
                return true;
            }
        }
        return false;
    }

    private void SetTime(ulong us)
    {
        Sk.TcpMstamp = us;
        Sk.TcpClockCache = us * 1000;
    }
}
