using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// A congestion-control algorithm as the stack calls it: the <c>tcp_congestion_ops</c> table with its functions
/// resolved once (a built-in's methods, or a struct_ops map's programs). A null function is an empty slot, which
/// the stack skips as the kernel checks for NULL.
/// </summary>
public sealed class TcpCongestionOps
{
    public required string Name { get; init; }
    public TcpCongFlags Flags { get; init; }

    public SockU32Fn? Ssthresh { get; init; }
    public CongAvoidFn? CongAvoid { get; init; }
    public SetStateFn? SetState { get; init; }
    public CwndEventFn? CwndEvent { get; init; }
    public InAckEventFn? InAckEvent { get; init; }
    public PktsAckedFn? PktsAcked { get; init; }
    public SockU32Fn? MinTsoSegs { get; init; }
    public CongControlFn? CongControl { get; init; }
    public SockU32Fn? UndoCwnd { get; init; }
    public SockU32Fn? SndbufExpand { get; init; }
    public GetInfoFn? GetInfo { get; init; }
    public SockVoidFn? Init { get; init; }
    public SockVoidFn? Release { get; init; }

    /// <summary>The struct_ops value behind a BPF algorithm (its module owner); null for a built-in.</summary>
    public StructOpsKernelData? Owner { get; init; }

    /// <summary>What contains a struct_ops consumer's faults (<see cref="GuardedCongestionOps"/>); null for a built-in.</summary>
    public ConsumerGuard? Guard { get; init; }

    /// <summary>True for an algorithm implemented by a struct_ops map.</summary>
    public bool IsBpf => Owner is not null;

    /// <summary>tcp_ca_needs_ecn (include/net/tcp.h): the algorithm has TCP_CONG_NEEDS_ECN.</summary>
    public bool NeedsEcn => (Flags & TcpCongFlags.NeedsEcn) != 0;

    /// <summary>Builds the table from a populated tcp_congestion_ops struct_ops value.</summary>
    public static TcpCongestionOps FromStructOps(StructOpsKernelData data) => new()
    {
        Name = data.ReadString("name"),
        Flags = (TcpCongFlags)data.ReadUInt32("flags"),
        Ssthresh = data.Function<SockU32Fn>("ssthresh"),
        CongAvoid = data.Function<CongAvoidFn>("cong_avoid"),
        SetState = data.Function<SetStateFn>("set_state"),
        CwndEvent = data.Function<CwndEventFn>("cwnd_event"),
        InAckEvent = data.Function<InAckEventFn>("in_ack_event"),
        PktsAcked = data.Function<PktsAckedFn>("pkts_acked"),
        MinTsoSegs = data.Function<SockU32Fn>("min_tso_segs"),
        CongControl = data.Function<CongControlFn>("cong_control"),
        UndoCwnd = data.Function<SockU32Fn>("undo_cwnd"),
        SndbufExpand = data.Function<SockU32Fn>("sndbuf_expand"),
        Init = data.Function<SockVoidFn>("init"),
        Release = data.Function<SockVoidFn>("release"),
        Owner = data,
    };
}
