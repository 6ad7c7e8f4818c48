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

    private uint Ssthresh(ref TcpSock sk) => CallU32(ref sk, "ssthresh", _inner.Ssthresh!, TcpCongKfuncs.RenoSsthresh(ref sk));

    private uint UndoCwnd(ref TcpSock sk) => CallU32(ref sk, "undo_cwnd", _inner.UndoCwnd!, TcpCongKfuncs.RenoUndoCwnd(ref sk));

    private uint MinTsoSegs(ref TcpSock sk) => CallU32(ref sk, "min_tso_segs", _inner.MinTsoSegs!, DefaultMinTsoSegs);

    private uint SndbufExpand(ref TcpSock sk) => CallU32(ref sk, "sndbuf_expand", _inner.SndbufExpand!, DefaultSndbufFactor);

    private void Init(ref TcpSock sk) => CallVoid(ref sk, "init", _inner.Init!);

    private void Release(ref TcpSock sk) => CallVoid(ref sk, "release", _inner.Release!);

    /// <param name="fallback">Computed before the call, from the socket as the consumer found it.</param>
    private uint CallU32(ref TcpSock sk, string member, SockU32Fn fn, uint fallback)
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

    private void CallVoid(ref TcpSock sk, string member, SockVoidFn fn)
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
        if (!_guard.Enter("cong_avoid"))
        {
            return;
        }
        try
        {
            _inner.CongAvoid!(ref sk, ack, acked);
            CheckCwnd(ref sk, "cong_avoid");
        }
        catch (Exception e) when (_guard.Catch("cong_avoid", e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void SetState(ref TcpSock sk, TcpCaState state)
    {
        if (!_guard.Enter("set_state"))
        {
            return;
        }
        try
        {
            _inner.SetState!(ref sk, state);
            CheckCwnd(ref sk, "set_state");
        }
        catch (Exception e) when (_guard.Catch("set_state", e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CwndEvent(ref TcpSock sk, TcpCaEvent ev)
    {
        if (!_guard.Enter("cwnd_event"))
        {
            return;
        }
        try
        {
            _inner.CwndEvent!(ref sk, ev);
            CheckCwnd(ref sk, "cwnd_event");
        }
        catch (Exception e) when (_guard.Catch("cwnd_event", e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void InAckEvent(ref TcpSock sk, uint flags)
    {
        if (!_guard.Enter("in_ack_event"))
        {
            return;
        }
        try
        {
            _inner.InAckEvent!(ref sk, flags);
            CheckCwnd(ref sk, "in_ack_event");
        }
        catch (Exception e) when (_guard.Catch("in_ack_event", e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void PktsAcked(ref TcpSock sk, in AckSample sample)
    {
        if (!_guard.Enter("pkts_acked"))
        {
            return;
        }
        try
        {
            _inner.PktsAcked!(ref sk, in sample);
            CheckCwnd(ref sk, "pkts_acked");
        }
        catch (Exception e) when (_guard.Catch("pkts_acked", e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CongControl(ref TcpSock sk, uint ack, int flag, in RateSample rs)
    {
        if (!_guard.Enter("cong_control"))
        {
            return;
        }
        try
        {
            _inner.CongControl!(ref sk, ack, flag, in rs);
            CheckCwnd(ref sk, "cong_control");
        }
        catch (Exception e) when (_guard.Catch("cong_control", e))
        {
        }
        finally
        {
            _guard.Exit();
        }
    }

    private void CheckCwnd(ref TcpSock sk, string member)
    {
        if ((int)sk.SndCwnd <= 0 && !_warned)
        {
            _warned = true;
            _cwndWarning(_guard, member, sk.SndCwnd);
        }
    }
}
