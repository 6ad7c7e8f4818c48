using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// How bytecode programs implement <c>tcp_congestion_ops</c> (net/ipv4/bpf_tcp_ca.c, 6.12): the helpers of
/// bpf_tcp_ca_get_func_proto (the base ones, sk_storage, tcp_send_ack, and set/getsockopt except in release), the
/// kfuncs of the tcp_ca kfunc sets (tcp_reno_*, tcp_slow_start, tcp_cong_avoid_ai, and cubictcp_*, dctcp_*, bbr_*
/// backed by bpfsim's built-in algorithms), writes to tcp_sock limited as bpf_tcp_ca_btf_struct_access limits them,
/// and the trampoline: the member's arguments as ctx[0..], the socket, ack_sample and rate_sample bound as regions.
/// </summary>
internal sealed class TcpCongestionOpsBytecode : BytecodeSupport
{
    // include/uapi/linux/tcp.h and socket.h.
    private const int SolSocket = 1;
    private const int SolTcp = 6;
    private const int TcpNodelay = 1;
    private const int TcpKeepidle = 4;
    private const int TcpKeepintvl = 5;
    private const int TcpKeepcnt = 6;
    private const int TcpCongestion = 13;
    private const int TcpBpfSndcwndClamp = 1002;
    private const int SoKeepalive = 9;

    private const int HelperSetsockopt = 49;
    private const int HelperGetsockopt = 57;
    private const int HelperSkStorageGet = 107;
    private const int HelperSkStorageDelete = 108;
    private const int HelperTcpSendAck = 116;

    private readonly TcpCongestionOpsType _type;
    private readonly WriteFilter _tcpSock;
    private readonly ConditionalWeakTable<LoadedObject, Regions> _regions = new();
    private readonly Dictionary<string, BpfFunction> _kfuncs;

    public TcpCongestionOpsBytecode(TcpCongestionOpsType type)
    {
        _type = type;
        _tcpSock = new WriteFilter("tcp_sock",
            TcpKernelTypes.WritableFields.Select(f => new WritableField(f.Offset, f.End - f.Offset, f.AnyOffsetInside)));
        _kfuncs = Kfuncs();
    }

    /// <summary>The regions a call binds, mapped once per object (in every nesting level).</summary>
    private sealed class Regions(LoadedObject obj, WriteFilter tcpSock)
    {
        public readonly RegionHandle Sock = obj.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock", tcpSock);
        public readonly RegionHandle AckSample = obj.MapCallScoped(RegionKind.KernelObject, MemoryAccess.Read, "ack_sample");
        public readonly RegionHandle RateSample = obj.MapCallScoped(RegionKind.KernelObject, MemoryAccess.Read, "rate_sample");
    }

    // ---- helpers ----

    public override BpfFunction? Helper(int id, StructOpsMember member, out string refusal)
    {
        refusal = "";
        BpfFunction? fn = id switch
        {
            HelperSkStorageGet => SkStorageGet,
            HelperSkStorageDelete => SkStorageDelete,
            HelperTcpSendAck => SendAck,
            // release may not call set/getsockopt: the algorithm is retiring and must not allocate anew.
            HelperSetsockopt when member.Name != "release" => SetSockOpt,
            HelperGetsockopt when member.Name != "release" => GetSockOpt,
            HelperSetsockopt or HelperGetsockopt => null,
            _ => BaseHelpers.For(id),
        };
        if (fn is null)
        {
            refusal = $"program of this type cannot use helper {HelperNames.TryGetName(id) ?? "unknown"}#{id}";
        }
        return fn;
    }

    private static ref TcpSock Sock(ref RunContext c, ulong address)
    {
        // Kfuncs and helpers take the socket the program was given, not any address: it must be the tcp_sock region.
        if (!c.Memory.TryTranslate(address, out var region, out int offset) || offset != 0 || c.Memory.NameOf(region) != "tcp_sock")
        {
            throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter, $"R1 type=scalar expected=ptr_to_btf_id (0x{address:x} is not the socket)", address);
        }
        return ref MemoryMarshal.AsRef<TcpSock>(c.GetBytes(address, Unsafe.SizeOf<TcpSock>(), MemoryAccess.Read));
    }

    private static ProgramCallState State(ref RunContext c) => (ProgramCallState)c.CallerState!;

    private static ulong SkStorageGet(ref RunContext c, ulong map, ulong sk, ulong value, ulong flags, ulong r5)
    {
        var state = State(ref c);
        if (state.Object.MapAt(map) is not SkStorageMap storage)
        {
            throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter, "R1 type=scalar expected=map_ptr (not an sk_storage map)", map);
        }
        if (sk == 0)
        {
            return 0;
        }
        long socket = Sock(ref c, sk).SocketId;
        var initial = value == 0 ? [] : c.GetBytes(value, storage.ValueSize, MemoryAccess.Read);
        if (!storage.Get(socket, flags, initial, out var bytes))
        {
            return 0;
        }
        var region = c.Memory.MapTransient(bytes, 0, bytes.Length, RegionKind.MapValue, MemoryAccess.ReadWrite, "sk_storage");
        return AddressSpace.AddressOf(region);
    }

    private static ulong SkStorageDelete(ref RunContext c, ulong map, ulong sk, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c).Object.MapAt(map) is not SkStorageMap storage)
        {
            throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter, "R1 type=scalar expected=map_ptr (not an sk_storage map)", map);
        }
        if (sk == 0)
        {
            return BaseHelpers.Error(Errno.EINVAL);
        }
        var errno = storage.Delete(Sock(ref c, sk).SocketId);
        return errno == Errno.None ? 0 : BaseHelpers.Error(errno);
    }

    /// <summary>
    /// bpf_tcp_send_ack: __tcp_send_ack(sk, rcv_nxt). Receiving sockets run bpfsim's built-in algorithms, so a consumer
    /// only calls this from a sending socket, whose pure ACK carries nothing the flow needs: it returns 0, as the
    /// kernel's helper does, and sends nothing.
    /// </summary>
    private static ulong SendAck(ref RunContext c, ulong sk, ulong rcvNxt, ulong r3, ulong r4, ulong r5)
    {
        ref var tp = ref Sock(ref c, sk);
        if (TcpCongKfuncs.AckOutput is { } output)
        {
            output(ref tp, (uint)rcvNxt);
        }
        return 0;
    }

    private ulong SetSockOpt(ref RunContext c, ulong sk, ulong level, ulong optname, ulong optval, ulong optlen)
    {
        ref var tp = ref Sock(ref c, sk);
        int len = (int)Math.Min(optlen, 256);
        switch ((int)level, (int)optname)
        {
            case (SolTcp, TcpCongestion):
            {
                // sol_tcp_sockopt_congestion (net/core/filter.c).
                if (len < 2)
                {
                    return BaseHelpers.Error(Errno.EINVAL);
                }
                var bytes = c.GetBytes(optval, len, MemoryAccess.Read);
                int nul = bytes.IndexOf((byte)0);
                string name = Encoding.ASCII.GetString(nul < 0 ? bytes : bytes[..nul]);
                if (name == "cdg")
                {
                    return BaseHelpers.Error(Errno.ENOTSUPP); // cdg allocates in icsk_ca_priv, which a BPF algorithm may use
                }
                if (tp.BpfChgCcInProgress != 0)
                {
                    return BaseHelpers.Error(Errno.EBUSY); // stops init → setsockopt → init → ... loops
                }
                if (_type.Sockets is not { } sockets)
                {
                    return BaseHelpers.Error(Errno.ENOENT);
                }
                tp.BpfChgCcInProgress = 1;
                int socket = tp.SocketId;
                BpfResult r;
                try
                {
                    r = sockets.SetCongestionControl(socket, name.Length > 15 ? name[..15] : name); // TCP_CA_NAME_MAX - 1
                }
                finally
                {
                    sockets.Sock(socket).BpfChgCcInProgress = 0;
                }
                return r.IsOk ? 0 : BaseHelpers.Error(r.Errno);
            }
            case (SolTcp, TcpBpfSndcwndClamp):
            {
                // bpf_sol_tcp_setsockopt (net/core/filter.c): the clamp, and ssthresh with it.
                if (len != 4)
                {
                    return BaseHelpers.Error(Errno.EINVAL);
                }
                int val = (int)c.Load(optval, 4);
                if (val <= 0)
                {
                    return BaseHelpers.Error(Errno.EINVAL);
                }
                tp.SndCwndClamp = (uint)val;
                tp.SndSsthresh = (uint)val;
                return 0;
            }
            case (SolTcp, TcpNodelay or TcpKeepidle or TcpKeepintvl or TcpKeepcnt):
            case (SolSocket, SoKeepalive):
                // Accepted as the kernel accepts them; nothing bpfsim models depends on them.
                return len == 4 ? 0 : BaseHelpers.Error(Errno.EINVAL);
            default:
                return BaseHelpers.Error(Errno.EINVAL);
        }
    }

    private ulong GetSockOpt(ref RunContext c, ulong sk, ulong level, ulong optname, ulong optval, ulong optlen)
    {
        ref var tp = ref Sock(ref c, sk);
        int len = (int)Math.Min(optlen, 256);
        var buffer = c.GetBytes(optval, len, MemoryAccess.Write);
        if ((int)level != SolTcp || (int)optname != TcpCongestion || len < 2 || _type.Sockets is not { } sockets)
        {
            buffer.Clear(); // bpf_getsockopt zeroes optval on failure
            return BaseHelpers.Error(Errno.EINVAL);
        }
        var name = Encoding.ASCII.GetBytes(sockets.CongestionControlName(tp.SocketId));
        buffer.Clear();
        name.AsSpan(0, Math.Min(name.Length, len - 1)).CopyTo(buffer); // NUL-terminated, as BPF expects
        return 0;
    }

    // ---- kfuncs ----

    /// <summary>The tcp_ca kfunc sets (bpf_tcp_ca.c, tcp_cubic.c, tcp_dctcp.c, tcp_bbr.c in 6.12).</summary>
    private static Dictionary<string, BpfFunction> Kfuncs()
    {
        var k = new Dictionary<string, BpfFunction>(StringComparer.Ordinal)
        {
            ["tcp_reno_ssthresh"] = (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) => TcpCongKfuncs.RenoSsthresh(ref Sock(ref c, sk)),
            ["tcp_reno_cong_avoid"] = (ref RunContext c, ulong sk, ulong ack, ulong acked, ulong d, ulong e) =>
                {
                    TcpCongKfuncs.RenoCongAvoid(ref Sock(ref c, sk), (uint)ack, (uint)acked);
                    return 0;
                },
            ["tcp_reno_undo_cwnd"] = (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) => TcpCongKfuncs.RenoUndoCwnd(ref Sock(ref c, sk)),
            ["tcp_slow_start"] = (ref RunContext c, ulong sk, ulong acked, ulong b, ulong d, ulong e) => TcpCongKfuncs.SlowStart(ref Sock(ref c, sk), (uint)acked),
            ["tcp_cong_avoid_ai"] = (ref RunContext c, ulong sk, ulong w, ulong acked, ulong d, ulong e) =>
                {
                    TcpCongKfuncs.CongAvoidAi(ref Sock(ref c, sk), (uint)w, (uint)acked);
                    return 0;
                },
        };
        AddAlgorithm(k, "cubictcp", Cubic.Ops, ("init", "init"), ("recalc_ssthresh", "ssthresh"), ("cong_avoid", "cong_avoid"),
            ("state", "set_state"), ("cwnd_event", "cwnd_event"), ("acked", "pkts_acked"));
        AddAlgorithm(k, "dctcp", Dctcp.Ops, ("init", "init"), ("update_alpha", "in_ack_event"), ("cwnd_event", "cwnd_event"),
            ("ssthresh", "ssthresh"), ("cwnd_undo", "undo_cwnd"), ("state", "set_state"));
        AddAlgorithm(k, "bbr", Bbr.Ops, ("init", "init"), ("main", "cong_control"), ("sndbuf_expand", "sndbuf_expand"), ("undo_cwnd", "undo_cwnd"),
            ("cwnd_event", "cwnd_event"), ("ssthresh", "ssthresh"), ("min_tso_segs", "min_tso_segs"), ("set_state", "set_state"));
        // A kfunc is kernel code: a program that makes it divide by zero (tcp_cong_avoid_ai with w = 0) would oops the
        // kernel. bpfsim ends the program instead, as a fault of the program that asked for it.
        foreach (var (name, fn) in k.ToList())
        {
            k[name] = (ref RunContext c, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) =>
            {
                try
                {
                    return fn(ref c, a1, a2, a3, a4, a5);
                }
                catch (DivideByZeroException)
                {
                    throw new BpfFault(FaultKind.Helper, c.ProgramCounter, $"divide error in kfunc {name} (the kernel would oops)");
                }
            };
        }
        return k;
    }

    /// <summary>PREFIX_NAME kfuncs that run the built-in algorithm's member.</summary>
    private static void AddAlgorithm(Dictionary<string, BpfFunction> k, string prefix, TcpCongestionOps ops, params (string Kfunc, string Member)[] names)
    {
        foreach (var (kfunc, member) in names)
        {
            k[$"{prefix}_{kfunc}"] = member switch
            {
                "init" => (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) =>
                {
                    ops.Init!(ref Sock(ref c, sk));
                    return 0;
                },
                "ssthresh" => (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) => ops.Ssthresh!(ref Sock(ref c, sk)),
                "undo_cwnd" => (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) => ops.UndoCwnd!(ref Sock(ref c, sk)),
                "sndbuf_expand" => (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) => ops.SndbufExpand!(ref Sock(ref c, sk)),
                "min_tso_segs" => (ref RunContext c, ulong sk, ulong a, ulong b, ulong d, ulong e) => ops.MinTsoSegs!(ref Sock(ref c, sk)),
                "cong_avoid" => (ref RunContext c, ulong sk, ulong ack, ulong acked, ulong d, ulong e) =>
                {
                    ops.CongAvoid!(ref Sock(ref c, sk), (uint)ack, (uint)acked);
                    return 0;
                },
                "set_state" => (ref RunContext c, ulong sk, ulong state, ulong b, ulong d, ulong e) =>
                {
                    ops.SetState!(ref Sock(ref c, sk), (TcpCaState)(byte)state);
                    return 0;
                },
                "cwnd_event" => (ref RunContext c, ulong sk, ulong ev, ulong b, ulong d, ulong e) =>
                {
                    ops.CwndEvent!(ref Sock(ref c, sk), (TcpCaEvent)(uint)ev);
                    return 0;
                },
                "in_ack_event" => (ref RunContext c, ulong sk, ulong flags, ulong b, ulong d, ulong e) =>
                {
                    ops.InAckEvent!(ref Sock(ref c, sk), (uint)flags);
                    return 0;
                },
                "pkts_acked" => PktsAcked(ops),
                "cong_control" => CongControl(ops),
                _ => throw new InvalidOperationException($"no kfunc shape for {member}"),
            };
        }
    }

    private static BpfFunction PktsAcked(TcpCongestionOps ops) => (ref RunContext c, ulong sk, ulong sample, ulong b, ulong d, ulong e) =>
    {
        var s = MemoryMarshal.Read<AckSample>(c.GetBytes(sample, Unsafe.SizeOf<AckSample>(), MemoryAccess.Read));
        ops.PktsAcked!(ref Sock(ref c, sk), in s);
        return 0;
    };

    private static BpfFunction CongControl(TcpCongestionOps ops) => (ref RunContext c, ulong sk, ulong ack, ulong flag, ulong rs, ulong e) =>
    {
        var r = MemoryMarshal.Read<RateSample>(c.GetBytes(rs, Unsafe.SizeOf<RateSample>(), MemoryAccess.Read));
        ops.CongControl!(ref Sock(ref c, sk), (uint)ack, (int)flag, in r);
        return 0;
    };

    public override BpfFunction? Kfunc(string name, StructOpsMember member, out bool exists, out string refusal)
    {
        exists = _kfuncs.TryGetValue(name, out var fn);
        refusal = exists ? "" : $"calling kernel function {name} is not allowed";
        return fn;
    }

    // ---- context ----

    public override WriteFilter? ArgumentWrites(StructOpsMember member, int argument) => (member.Name, argument) switch
    {
        (_, 0) => _tcpSock, // struct sock *, promoted to tcp_sock (bpf_tcp_ca_is_valid_access)
        ("pkts_acked", 1) => new WriteFilter("ack_sample", []),
        ("cong_control", 3) => new WriteFilter("rate_sample", []),
        _ => null,
    };

    // ---- trampolines ----

    public override Delegate? Trampoline(StructOpsMember member, BytecodeProgram program)
    {
        var regions = _regions.GetValue(program.Object, o => new Regions(o, _tcpSock));
        return member.Name switch
        {
            "ssthresh" or "undo_cwnd" or "min_tso_segs" or "sndbuf_expand" => (SockU32Fn)((ref TcpSock sk) => (uint)Run(program, regions, ref sk, 0, 0, 0)),
            "init" or "release" => (SockVoidFn)((ref TcpSock sk) => Run(program, regions, ref sk, 0, 0, 0)),
            "cong_avoid" => (CongAvoidFn)((ref TcpSock sk, uint ack, uint acked) => Run(program, regions, ref sk, 3, ack, acked)),
            "set_state" => (SetStateFn)((ref TcpSock sk, TcpCaState state) => Run(program, regions, ref sk, 2, (byte)state, 0)),
            "cwnd_event" => (CwndEventFn)((ref TcpSock sk, TcpCaEvent ev) => Run(program, regions, ref sk, 2, (uint)ev, 0)),
            "in_ack_event" => (InAckEventFn)((ref TcpSock sk, uint flags) => Run(program, regions, ref sk, 2, flags, 0)),
            "pkts_acked" => (PktsAckedFn)((ref TcpSock sk, in AckSample sample) => RunWithSample(program, regions, ref sk, in sample)),
            "cong_control" => (CongControlFn)((ref TcpSock sk, uint ack, int flag, in RateSample rs) => RunWithRate(program, regions, ref sk, ack, flag, in rs)),
            _ => null, // get_info and the like: bpf_tcp_ca_check_member (net/ipv4/bpf_tcp_ca.c) refuses them, and so does the load
        };
    }

    private static ulong Run(BytecodeProgram program, Regions regions, ref TcpSock sk, int argc, ulong a1, ulong a2)
    {
        scoped RunContext c = program.NewContext();
        c.Bind(regions.Sock, MemoryMarshal.AsBytes(new Span<TcpSock>(ref sk)));
        Span<ulong> args = [AddressSpace.AddressOf(regions.Sock), a1, a2];
        return program.Run(ref c, args[..Math.Max(argc, 1)], sk.SocketId);
    }

    private static void RunWithSample(BytecodeProgram program, Regions regions, ref TcpSock sk, in AckSample sample)
    {
        scoped RunContext c = program.NewContext();
        c.Bind(regions.Sock, MemoryMarshal.AsBytes(new Span<TcpSock>(ref sk)));
        c.Bind(regions.AckSample, MemoryMarshal.AsBytes(new Span<AckSample>(ref Unsafe.AsRef(in sample))));
        Span<ulong> args = [AddressSpace.AddressOf(regions.Sock), AddressSpace.AddressOf(regions.AckSample)];
        program.Run(ref c, args, sk.SocketId);
    }

    private static void RunWithRate(BytecodeProgram program, Regions regions, ref TcpSock sk, uint ack, int flag, in RateSample rs)
    {
        scoped RunContext c = program.NewContext();
        c.Bind(regions.Sock, MemoryMarshal.AsBytes(new Span<TcpSock>(ref sk)));
        c.Bind(regions.RateSample, MemoryMarshal.AsBytes(new Span<RateSample>(ref Unsafe.AsRef(in rs))));
        Span<ulong> args = [AddressSpace.AddressOf(regions.Sock), ack, (ulong)(long)flag, AddressSpace.AddressOf(regions.RateSample)];
        program.Run(ref c, args, sk.SocketId);
    }
}
