using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// <c>tcp_congestion_ops</c> as a struct_ops type: the bridge of net/ipv4/bpf_tcp_ca.c. Members in the kernel's
/// order and layout (value_size 256, data at 64, name at 152); init_member checks flags and name; validate is
/// tcp_validate_congestion_control; reg, unreg and update delegate to the <see cref="TcpCongestionRegistry"/>.
/// </summary>
public sealed class TcpCongestionOpsType : StructOpsType
{
    public const string TypeName = "tcp_congestion_ops";

    private readonly Dictionary<StructOpsKernelData, TcpCongestionOps> _registered = [];
    private readonly List<ConsumerGuard> _guards = [];

    public TcpCongestionOpsType(TcpCongestionRegistry registry) : base(TypeName, Layout(), structAlignment: 64)
    {
        Registry = registry;
    }

    /// <summary>The algorithms this type registers into.</summary>
    public TcpCongestionRegistry Registry { get; }

    /// <summary>The sockets BPF helpers act on (bpf_setsockopt), set by the TCP stack of this kernel.</summary>
    public Stack.ITcpSocketControl? Sockets { get; set; }

    private TcpCongestionOpsBytecode? _bytecode;

    /// <summary>bpf_tcp_ca.c for bytecode programs: helpers, kfuncs, writable tcp_sock fields, trampolines.</summary>
    public override Core.Ebpf.Loading.BytecodeSupport Bytecode => _bytecode ??= new TcpCongestionOpsBytecode(this);

    /// <summary>
    /// Calls that earlier attempts of a contained run never returned from, by guard ordinal: the guard created with
    /// that ordinal refuses that call (see <see cref="ConsumerGuard.AbandonAt"/>).
    /// </summary>
    public IDictionary<int, (long Call, string Message)> AbandonedCalls { get; } = new Dictionary<int, (long, string)>();

    /// <summary>Raised, in the simulation's thread, when a registered consumer faults: eject it.</summary>
    public event Action<ConsumerGuard>? ConsumerFaulted;

    /// <summary>Raised once per consumer when a member leaves snd_cwnd at or below zero (tcp_snd_cwnd_set's WARN_ON_ONCE).</summary>
    public event Action<ConsumerGuard, string, uint>? CwndWarning;

    /// <summary>The guard of every consumer registered so far, in order; safe to read from another thread.</summary>
    public IReadOnlyList<ConsumerGuard> Guards
    {
        get
        {
            lock (_guards)
            {
                return _guards.ToArray();
            }
        }
    }

    private static IEnumerable<StructOpsMember> Layout() =>
    [
        StructOpsMember.Function("ssthresh", typeof(SockU32Fn), "u32 (struct sock *)", mandatory: true),
        StructOpsMember.Function("cong_avoid", typeof(CongAvoidFn), "void (struct sock *, u32, u32)"),
        StructOpsMember.Function("set_state", typeof(SetStateFn), "void (struct sock *, u8)"),
        StructOpsMember.Function("cwnd_event", typeof(CwndEventFn), "void (struct sock *, enum tcp_ca_event)"),
        StructOpsMember.Function("in_ack_event", typeof(InAckEventFn), "void (struct sock *, u32)"),
        StructOpsMember.Function("pkts_acked", typeof(PktsAckedFn), "void (struct sock *, const struct ack_sample *)"),
        StructOpsMember.Function("min_tso_segs", typeof(SockU32Fn), "u32 (struct sock *)"),
        StructOpsMember.Function("cong_control", typeof(CongControlFn), "void (struct sock *, u32, int, const struct rate_sample *)"),
        StructOpsMember.Function("undo_cwnd", typeof(SockU32Fn), "u32 (struct sock *)", mandatory: true),
        StructOpsMember.Function("sndbuf_expand", typeof(SockU32Fn), "u32 (struct sock *)"),
        // get_info has no cfi stub in bpf_tcp_ca.c: BPF cannot implement it (ENOTSUPP at load).
        StructOpsMember.Function("get_info", typeof(GetInfoFn), "size_t (struct sock *, u32, int *, union tcp_cc_info *)", supported: false),
        StructOpsMember.Data("name", StructOpsMemberKind.CString, TcpCongestionRegistry.NameMax),
        StructOpsMember.Data("owner", StructOpsMemberKind.Pointer),
        StructOpsMember.Data("list", StructOpsMemberKind.ListHead),
        StructOpsMember.Data("key", StructOpsMemberKind.U32),
        StructOpsMember.Data("flags", StructOpsMemberKind.U32),
        StructOpsMember.Function("init", typeof(SockVoidFn), "void (struct sock *)"),
        StructOpsMember.Function("release", typeof(SockVoidFn), "void (struct sock *)"),
    ];

    /// <summary>bpf_tcp_ca_init_member: flags within TCP_CONG_MASK; name a valid, NUL-terminated object name.</summary>
    public override BpfResult InitMember(StructOpsMember member, ReadOnlySpan<byte> userData, Span<byte> kernelData, out bool handled)
    {
        handled = false;
        switch (member.Name)
        {
            case "flags":
                handled = true;
                uint flags = BitConverter.ToUInt32(userData);
                if ((flags & ~(uint)TcpCongFlags.Mask) != 0)
                {
                    return BpfResult.Fail(Errno.EINVAL, $"flags 0x{flags:x} has bits outside TCP_CONG_MASK (0x{(uint)TcpCongFlags.Mask:x})");
                }
                userData.CopyTo(kernelData);
                return BpfResult.Ok;
            case "name":
                handled = true;
                int nul = userData.IndexOf((byte)0);
                var name = nul < 0 ? "" : Encoding.ASCII.GetString(userData[..nul]);
                if (nul <= 0 || !BpfSystem.IsValidObjectName(name))
                {
                    return BpfResult.Fail(Errno.EINVAL, "name must be 1-15 characters of [A-Za-z0-9_.] and NUL-terminated");
                }
                // bpf_obj_name_cpy zero-fills after the NUL.
                kernelData.Clear();
                userData[..nul].CopyTo(kernelData);
                return BpfResult.Ok;
            default:
                return BpfResult.Ok;
        }
    }

    /// <summary>tcp_validate_congestion_control.</summary>
    public override BpfResult Validate(StructOpsKernelData data) =>
        data.Has("cong_avoid") || data.Has("cong_control")
            ? BpfResult.Ok
            : BpfResult.Fail(Errno.EINVAL, $"{data.ReadString("name")} does not implement required ops (cong_avoid or cong_control)");

    /// <summary>tcp_register_congestion_control (EEXIST for a name already registered).</summary>
    public override BpfResult Register(StructOpsKernelData data, StructOpsLink? link)
    {
        var ca = Guarded(data);
        var r = Registry.Register(ca);
        if (r.IsOk)
        {
            _registered[data] = ca;
        }
        return r;
    }

    /// <summary>tcp_unregister_congestion_control.</summary>
    public override void Unregister(StructOpsKernelData data, StructOpsLink? link)
    {
        if (_registered.Remove(data, out var ca))
        {
            Registry.Unregister(ca);
        }
    }

    public override bool SupportsUpdate => true;

    /// <summary>tcp_update_congestion_control: same name, old one still registered, else EINVAL.</summary>
    public override BpfResult Update(StructOpsKernelData data, StructOpsKernelData old, StructOpsLink? link)
    {
        if (!_registered.TryGetValue(old, out var oldCa))
        {
            return BpfResult.Fail(Errno.EINVAL, "the link's current map is not registered");
        }
        var ca = Guarded(data);
        var r = Registry.Update(ca, oldCa);
        if (r.IsOk)
        {
            _registered.Remove(old);
            _registered[data] = ca;
        }
        return r;
    }

    /// <summary>The algorithm a populated value becomes, its calls contained by a new guard.</summary>
    private TcpCongestionOps Guarded(StructOpsKernelData data)
    {
        var ops = TcpCongestionOps.FromStructOps(data);
        ConsumerGuard guard;
        lock (_guards)
        {
            guard = new ConsumerGuard(_guards.Count, ops.Name, data.Map, data.Map.System.Simulator, GuardedCongestionOps.Members);
            _guards.Add(guard);
        }
        if (AbandonedCalls.TryGetValue(guard.Ordinal, out var abandoned))
        {
            guard.AbandonAt(abandoned.Call, abandoned.Message);
        }
        guard.Faulted += g => ConsumerFaulted?.Invoke(g);
        return GuardedCongestionOps.Wrap(ops, guard, (g, member, cwnd) => CwndWarning?.Invoke(g, member, cwnd));
    }

    /// <summary>The algorithm a registered struct_ops value became, if it is registered.</summary>
    public TcpCongestionOps? AlgorithmOf(StructOpsKernelData data) => _registered.GetValueOrDefault(data);
}
