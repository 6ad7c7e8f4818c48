using System.Runtime.CompilerServices;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Tcp.Stack;

// The tcp_congestion_ops call points, each through a helper that calls the member as the kernel does (a NULL member
// is skipped) and, only when a tracer is set, reports the call with the socket before and after. Untraced, a call
// costs one more null check.
public sealed partial class TcpStack
{
    private ITcpTracer? _tracer;

    /// <summary>Receives every ACK, send and congestion-control call of this stack's connections; null (the default) for none.</summary>
    public ITcpTracer? Tracer
    {
        get => _tracer;
        set => _tracer = value;
    }

    // Set while tcp_send_loss_probe sends new data through tcp_write_xmit, so the trace can flag those segments.
    private bool _sendingNewDataProbe;

    private void TraceSend(TcpConnection conn, ulong seg, bool retransmit, bool lossProbe)
    {
        ref var sk = ref _socks[conn.Id];
        var flags = TcpSendFlags.None;
        if (retransmit)
        {
            flags |= TcpSendFlags.Retransmit;
            if (sk.IcskCaState == TcpCaState.Loss)
            {
                flags |= TcpSendFlags.Rto;
            }
        }
        if (lossProbe || _sendingNewDataProbe)
        {
            flags |= TcpSendFlags.LossProbe;
        }
        _tracer!.Send(_sim.Now.Nanoseconds, conn.Id, SeqOf(conn, seg), EndSeqOf(conn, seg), flags, in sk);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TraceAck(TcpConnection conn, uint ackSeq, in RateSample rs) =>
        _tracer?.Ack(_sim.Now.Nanoseconds, conn.Id, ackSeq, in _socks[conn.Id], in rs);

    private void TraceCa(in TcpSock sk, TcpCaMember member, long a0, long a1, long a2, long ret, in TcpCaSnapshot before) =>
        _tracer!.CaCall(_sim.Now.Nanoseconds, in sk, new TcpCaCall(member, a0, a1, a2, ret), in before);

    private void CaVoid(SockVoidFn? fn, ref TcpSock sk, TcpCaMember member)
    {
        if (fn is null)
        {
            return;
        }
        if (_tracer is null)
        {
            fn(ref sk);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk);
        TraceCa(in sk, member, 0, 0, 0, TcpCaCall.NoReturn, in before);
    }

    /// <summary>A value-returning member that must exist (ssthresh, undo_cwnd).</summary>
    private uint CaU32(SockU32Fn fn, ref TcpSock sk, TcpCaMember member)
    {
        if (_tracer is null)
        {
            return fn(ref sk);
        }
        var before = new TcpCaSnapshot(in sk);
        uint r = fn(ref sk);
        TraceCa(in sk, member, 0, 0, 0, r, in before);
        return r;
    }

    /// <summary>An optional value-returning member (min_tso_segs, sndbuf_expand): null when it is absent.</summary>
    private uint? CaU32Optional(SockU32Fn? fn, ref TcpSock sk, TcpCaMember member) => fn is null ? null : CaU32(fn, ref sk, member);

    private void CaCongAvoid(TcpCongestionOps ops, ref TcpSock sk, uint ack, uint acked)
    {
        var fn = ops.CongAvoid;
        if (fn is null)
        {
            return;
        }
        if (_tracer is null)
        {
            fn(ref sk, ack, acked);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk, ack, acked);
        TraceCa(in sk, TcpCaMember.CongAvoid, ack, acked, 0, TcpCaCall.NoReturn, in before);
    }

    private void CaSetState(TcpCongestionOps ops, ref TcpSock sk, TcpCaState state)
    {
        var fn = ops.SetState;
        if (fn is null)
        {
            return;
        }
        if (_tracer is null)
        {
            fn(ref sk, state);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk, state);
        TraceCa(in sk, TcpCaMember.SetState, (long)state, 0, 0, TcpCaCall.NoReturn, in before);
    }

    private void CaCwndEvent(TcpCongestionOps ops, ref TcpSock sk, TcpCaEvent ev)
    {
        var fn = ops.CwndEvent;
        if (fn is null)
        {
            return;
        }
        if (_tracer is null)
        {
            fn(ref sk, ev);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk, ev);
        TraceCa(in sk, TcpCaMember.CwndEvent, (long)ev, 0, 0, TcpCaCall.NoReturn, in before);
    }

    private void CaInAckEvent(TcpCongestionOps ops, ref TcpSock sk, uint flags)
    {
        var fn = ops.InAckEvent;
        if (fn is null)
        {
            return;
        }
        if (_tracer is null)
        {
            fn(ref sk, flags);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk, flags);
        TraceCa(in sk, TcpCaMember.InAckEvent, flags, 0, 0, TcpCaCall.NoReturn, in before);
    }

    private void CaPktsAcked(TcpCongestionOps ops, ref TcpSock sk, in AckSample sample)
    {
        var fn = ops.PktsAcked;
        if (fn is null)
        {
            return;
        }
        if (_tracer is null)
        {
            fn(ref sk, in sample);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk, in sample);
        TraceCa(in sk, TcpCaMember.PktsAcked, sample.PktsAcked, sample.RttUs, sample.InFlight, TcpCaCall.NoReturn, in before);
    }

    private void CaCongControl(CongControlFn fn, ref TcpSock sk, uint ack, int flag, in RateSample rs)
    {
        if (_tracer is null)
        {
            fn(ref sk, ack, flag, in rs);
            return;
        }
        var before = new TcpCaSnapshot(in sk);
        fn(ref sk, ack, flag, in rs);
        TraceCa(in sk, TcpCaMember.CongControl, ack, flag, rs.Delivered, TcpCaCall.NoReturn, in before);
    }
}
