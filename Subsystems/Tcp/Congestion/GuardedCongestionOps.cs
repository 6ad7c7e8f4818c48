using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// Wraps a struct_ops consumer's <c>tcp_congestion_ops</c> functions so a faulty one cannot take the run down: every
/// call goes through the consumer's <see cref="ConsumerGuard"/>; a call that throws, recurses too deep or was
/// abandoned as a hang returns what the kernel uses when the member is absent (tcp_reno_ssthresh, tcp_reno_undo_cwnd,
/// sysctl_tcp_min_tso_segs, the sndbuf factor 2; nothing for a void member), and the guard has the consumer ejected.
/// </summary>
/// <remarks>
/// A snd_cwnd that a member leaves at or below zero (as an int) is reported once per consumer, as the kernel's
/// WARN_ON_ONCE((int)val &lt;= 0) in tcp_snd_cwnd_set (include/net/tcp.h) reports it; the value stands, as it does in
/// the kernel, and such a flow cannot send.
/// </remarks>
internal sealed class GuardedCongestionOps
{
    private const uint DefaultMinTsoSegs = 2; // sysctl_tcp_min_tso_segs
    private const uint DefaultSndbufFactor = 2; // tcp_sndbuf_expand without sndbuf_expand

    /// <summary>The members a guard reports, indexed by the numbers below (the guard stores a number per call, not a string).</summary>
    public static readonly IReadOnlyList<string> Members =
        ["ssthresh", "undo_cwnd", "min_tso_segs", "sndbuf_expand", "init", "release", "cong_avoid", "set_state", "cwnd_event", "in_ack_event", "pkts_acked", "cong_control"];

    private const int SsthreshMember = 0;
    private const int UndoCwndMember = 1;
    private const int MinTsoSegsMember = 2;
    private const int SndbufExpandMember = 3;
    private const int InitMember = 4;
    private const int ReleaseMember = 5;
    private const int CongAvoidMember = 6;
    private const int SetStateMember = 7;
    private const int CwndEventMember = 8;
    private const int InAckEventMember = 9;
    private const int PktsAckedMember = 10;
    private const int CongControlMember = 11;

    private readonly TcpCongestionOps _inner;
    private readonly ConsumerGuard _guard;
    private readonly Action<ConsumerGuard, string, uint> _cwndWarning;
    private bool _warned;

    private GuardedCongestionOps(TcpCongestionOps inner, ConsumerGuard guard, Action<ConsumerGuard, string, uint> cwndWarning)
    {
        _inner = inner;
        _guard = guard;
        _cwndWarning = cwndWarning;
    }

    /// <summary>The table the stack calls: <paramref name="ops"/>'s functions, each behind <paramref name="guard"/>.</summary>
    public static TcpCongestionOps Wrap(TcpCongestionOps ops, ConsumerGuard guard, Action<ConsumerGuard, string, uint> cwndWarning)
    {
        var g = new GuardedCongestionOps(ops, guard, cwndWarning);
        return new TcpCongestionOps
        {
            Name = ops.Name,
            Flags = ops.Flags,
            Owner = ops.Owner,
            Guard = guard,
            Ssthresh = ops.Ssthresh is null ? null : g.Ssthresh,
            UndoCwnd = ops.UndoCwnd is null ? null : g.UndoCwnd,
            MinTsoSegs = ops.MinTsoSegs is null ? null : g.MinTsoSegs,
            SndbufExpand = ops.SndbufExpand is null ? null : g.SndbufExpand,
            Init = ops.Init is null ? null : g.Init,
            Release = ops.Release is null ? null : g.Release,
            CongAvoid = ops.CongAvoid is null ? null : g.CongAvoid,
            SetState = ops.SetState is null ? null : g.SetState,
            CwndEvent = ops.CwndEvent is null ? null : g.CwndEvent,
            InAckEvent = ops.InAckEvent is null ? null : g.InAckEvent,
            PktsAcked = ops.PktsAcked is null ? null : g.PktsAcked,
            CongControl = ops.CongControl is null ? null : g.CongControl,
            GetInfo = ops.GetInfo, // BPF cannot implement get_info (no cfi stub), so it is never a consumer's
        };
    }

    private uint Ssthresh(ref TcpSock sk) => CallU32(ref sk, SsthreshMember, _inner.Ssthresh!, TcpCongKfuncs.RenoSsthresh(ref sk));

    private uint UndoCwnd(ref TcpSock sk) => CallU32(ref sk, UndoCwndMember, _inner.UndoCwnd!, TcpCongKfuncs.RenoUndoCwnd(ref sk));

    private uint MinTsoSegs(ref TcpSock sk) => CallU32(ref sk, MinTsoSegsMember, _inner.MinTsoSegs!, DefaultMinTsoSegs);

    private uint SndbufExpand(ref TcpSock sk) => CallU32(ref sk, SndbufExpandMember, _inner.SndbufExpand!, DefaultSndbufFactor);

    private void Init(ref TcpSock sk) => CallVoid(ref sk, InitMember, _inner.Init!);

    private void Release(ref TcpSock sk) => CallVoid(ref sk, ReleaseMember, _inner.Release!);

    /// <param name="fallback">Computed before the call, from the socket as the consumer found it.</param>
    private uint CallU32(ref TcpSock sk, int member, SockU32Fn fn, uint fallback)
    {
        if (!_guard.Enter(member))
        {
            return fallback;
        }
        try
        {
            uint result = fn(ref sk);
            CheckCwnd(ref sk, member);
            return result;
        }
        catch (Exception e) when (_guard.Catch(member, e))
        {
            return fallback;
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CallVoid(ref TcpSock sk, int member, SockVoidFn fn)
    {
        if (!_guard.Enter(member))
        {
            return;
        }
        try
        {
            fn(ref sk);
            CheckCwnd(ref sk, member);
        }
        catch (Exception e) when (_guard.Catch(member, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CongAvoid(ref TcpSock sk, uint ack, uint acked)
    {
        if (!_guard.Enter(CongAvoidMember))
        {
            return;
        }
        try
        {
            _inner.CongAvoid!(ref sk, ack, acked);
            CheckCwnd(ref sk, CongAvoidMember);
        }
        catch (Exception e) when (_guard.Catch(CongAvoidMember, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void SetState(ref TcpSock sk, TcpCaState state)
    {
        if (!_guard.Enter(SetStateMember))
        {
            return;
        }
        try
        {
            _inner.SetState!(ref sk, state);
            CheckCwnd(ref sk, SetStateMember);
        }
        catch (Exception e) when (_guard.Catch(SetStateMember, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
        if (!_guard.Enter(CwndEventMember))
        {
            return;
        }
        try
        {
            _inner.CwndEvent!(ref sk, ev);
            CheckCwnd(ref sk, CwndEventMember);
        }
        catch (Exception e) when (_guard.Catch(CwndEventMember, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void InAckEvent(ref TcpSock sk, uint flags)
    {
        if (!_guard.Enter(InAckEventMember))
        {
            return;
        }
        try
        {
            _inner.InAckEvent!(ref sk, flags);
            CheckCwnd(ref sk, InAckEventMember);
        }
        catch (Exception e) when (_guard.Catch(InAckEventMember, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void PktsAcked(ref TcpSock sk, in AckSample sample)
    {
        if (!_guard.Enter(PktsAckedMember))
        {
            return;
        }
        try
        {
            _inner.PktsAcked!(ref sk, in sample);
            CheckCwnd(ref sk, PktsAckedMember);
        }
        catch (Exception e) when (_guard.Catch(PktsAckedMember, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CongControl(ref TcpSock sk, uint ack, int flag, in RateSample rs)
    {
        if (!_guard.Enter(CongControlMember))
        {
            return;
        }
        try
        {
            _inner.CongControl!(ref sk, ack, flag, in rs);
            CheckCwnd(ref sk, CongControlMember);
        }
        catch (Exception e) when (_guard.Catch(CongControlMember, e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CheckCwnd(ref TcpSock sk, int member)
    {
        if ((int)sk.SndCwnd <= 0 && !_warned)
        {
            _warned = true;
            _cwndWarning(_guard, Members[member], sk.SndCwnd);
        }
    }
}
