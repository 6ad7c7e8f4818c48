using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Programs.Tcp;

/// <summary>
/// bpf_cubic (tools/testing/selftests/bpf/progs/bpf_cubic.c): CUBIC as a struct_ops program, calling the
/// tcp_slow_start, tcp_cong_avoid_ai and tcp_reno_undo_cwnd kfuncs. It shares the unchanged parts with the built-in
/// <c>cubic</c> and keeps the three places where the selftest's copy differs from net/ipv4/tcp_cubic.c:
/// <list type="number">
/// <item>bictcp_update measures t in microseconds (jiffies·USEC_PER_JIFFY + delay_min) instead of rounding
/// delay_min up to jiffies;</item>
/// <item>the TCP-friendliness loop became <c>n = ack_cnt / delta</c>, which at an exact multiple of delta counts one
/// more Reno increment than the kernel's <c>while (ack_cnt &gt; delta)</c>;</item>
/// <item>HyStart's round resets in cong_avoid on <c>after(ack, end_seq)</c> and the cwnd ≥ 16 check sits in
/// pkts_acked: the layout before 5.16.</item>
/// </list>
/// </summary>
[StructOps(TcpCongestionOpsType.TypeName, Name = "bpf_cubic", Description = "CUBIC with HyStart, the bpf_cubic.c selftest port")]
public sealed class BpfCubic : TcpCongestionOpsProgram
{
    /// <summary>bpf_cubic_acked_called: the selftest checks pkts_acked ran.</summary>
    public bool AckedCalled { get; private set; }

    /// <summary>bpf_cubic_init.</summary>
    public override void Init(ref TcpSock sk) => CubicMath.Init(ref sk);

    /// <summary>bpf_cubic_cwnd_event: shift the epoch over an idle period (CA_EVENT_TX_START).</summary>
    public override void CwndEvent(ref TcpSock sk, TcpCaEvent ev) => CubicMath.CwndEvent(ref sk, ev);

    /// <summary>bpf_cubic_recalc_ssthresh.</summary>
    public override uint Ssthresh(ref TcpSock sk) => CubicMath.RecalcSsthresh(ref sk);

    /// <summary>bpf_cubic_state.</summary>
    public override void SetState(ref TcpSock sk, TcpCaState newState) => CubicMath.SetState(ref sk, newState);

    /// <summary>bpf_cubic_undo_cwnd: the tcp_reno_undo_cwnd kfunc.</summary>
    public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);

    /// <summary>bpf_cubic_cong_avoid: slow start (starting a HyStart round when end_seq is acked), then cubic growth.</summary>
    public override void CongAvoid(ref TcpSock sk, uint ack, uint acked)
    {
        if (!sk.CwndLimited)
        {
            return;
        }
        ref var ca = ref CubicMath.Ca(ref sk);
        if (sk.InSlowStart)
        {
            if (CubicMath.Hystart && TcpTime.After(ack, ca.EndSeq))
            {
                CubicMath.HystartReset(ref sk);
            }
            acked = TcpCongKfuncs.SlowStart(ref sk, acked);
            if (acked == 0)
            {
                return;
            }
        }
        Update(ref ca, sk.TcpJiffies32, sk.Hz, sk.SndCwnd, acked);
        TcpCongKfuncs.CongAvoidAi(ref sk, ca.Cnt, acked);
    }

    /// <summary>bpf_cubic_acked: delay_min, then HyStart from cwnd 16 up.</summary>
    public override void PktsAcked(ref TcpSock sk, in AckSample sample)
    {
        AckedCalled = true;
        ref var ca = ref CubicMath.Ca(ref sk);
        if (sample.RttUs < 0)
        {
            return;
        }
        if (ca.EpochStart != 0 && (int)(sk.TcpJiffies32 - ca.EpochStart) < (int)sk.Hz)
        {
            return;
        }
        uint delay = sample.RttUs == 0 ? 1u : (uint)sample.RttUs;
        if (ca.DelayMin == 0 || ca.DelayMin > delay)
        {
            ca.DelayMin = delay;
        }
        if (ca.Found == 0 && sk.InSlowStart && CubicMath.Hystart && sk.SndCwnd >= CubicMath.HystartLowWindow)
        {
            Cubic.HystartDetect(ref sk, ref ca, delay);
        }
    }

    /// <summary>bictcp_update as bpf_cubic.c writes it (microsecond t, divided friendliness).</summary>
    private static void Update(ref CubicState ca, uint now, uint hz, uint cwnd, uint acked)
    {
        ca.AckCnt += acked;
        if (ca.LastCwnd == cwnd && (int)(now - ca.LastTime) <= (int)hz / 32)
        {
            return;
        }
        if (ca.EpochStart == 0 || now != ca.LastTime)
        {
            ca.LastCwnd = cwnd;
            ca.LastTime = now;
            if (ca.EpochStart == 0)
            {
                CubicMath.StartEpoch(ref ca, now, cwnd, acked);
            }
            ulong t = (ulong)(long)(int)(now - ca.EpochStart) * (TcpTime.UsecPerSec / hz); // USEC_PER_JIFFY, CONFIG_HZ from .kconfig
            t += ca.DelayMin;
            t <<= CubicMath.BicHz;
            t /= TcpTime.UsecPerSec;
            CubicMath.CntFromTarget(ref ca, cwnd, CubicMath.BicTarget(in ca, t));
        }
        if (CubicMath.TcpFriendliness)
        {
            uint delta = (cwnd * CubicMath.BetaScaleFriendly) >> 3;
            if (ca.AckCnt > delta && delta != 0)
            {
                uint n = ca.AckCnt / delta;
                ca.AckCnt -= n * delta;
                ca.TcpCwnd += n;
            }
            CubicMath.ClampToReno(ref ca, cwnd);
        }
        ca.Cnt = Math.Max(ca.Cnt, 2u);
    }
}
