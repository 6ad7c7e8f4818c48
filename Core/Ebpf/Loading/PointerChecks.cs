using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The verifier's pointer rules bpfsim checks at load (kernel/bpf/verifier.c, 6.12), on one walk of every path:
/// <list type="bullet">
/// <item>A pointer a helper may return as NULL (bpf_map_lookup_elem, bpf_map_lookup_percpu_elem, bpf_sk_storage_get,
/// bpf_task_storage_get: PTR_TO_MAP_VALUE | PTR_MAYBE_NULL) is compared with 0 before it is used: a load, store or atomic
/// through it is EACCES "R&lt;n&gt; invalid mem access 'map_value_or_null'" (check_mem_access), arithmetic on it "R&lt;n&gt;
/// pointer arithmetic on map_value_or_null prohibited, null-check it first" (adjust_ptr_min_max_vals). A 64-bit
/// <c>== 0</c>/<c>!= 0</c> test makes it and every copy of it, in registers and 8-byte stack slots, the value on one
/// edge and the scalar 0 on the other (mark_ptr_or_null_regs); a use of a scalar as a pointer is "invalid mem access
/// 'scalar'".</item>
/// <item>An XDP program's packet (try_match_pkt_pointers, find_good_pkt_pointers, mark_pkt_end,
/// check_packet_access): <c>ctx-&gt;data</c> proves nothing; a 64-bit comparison of <c>data + N</c> with
/// <c>data_end</c> proves N bytes (N + 1 when strict towards the end) on the edge where it holds, for every pointer
/// into the packet at a constant offset; on the other edge that register is at or beyond the end, which decides later
/// comparisons of it (is_pkt_ptr_branch_taken) and makes an access through it EINVAL "R&lt;n&gt; offset is outside of
/// the packet". A helper that may move the packet (bpf_xdp_adjust_head, _meta, _tail) turns every pointer into it into
/// a scalar (clear_all_pkt_pointers).</item>
/// </list>
/// Like the verifier, the walk knows constants — immediates, what it computes from them, and loads from an object's
/// frozen .rodata/.kconfig (bpf_map_direct_read) — and follows only the edge a comparison of two of them takes
/// (is_branch_taken). Where paths meet, what they disagree on is forgotten, and a pointer moved by a value the walk
/// does not know is not followed (after a comparison of one with data_end nothing more of the packet is checked on
/// that path); so a use is refused only when every path to it carries the fault, and what the walk misses is left to
/// the run-time check of every access.
/// </summary>
internal static class PointerChecks
{
    private enum Kind : byte
    {
        Unknown,
        Constant,
        Context,
        Stack,
        Data,
        MaybeNull,
        Packet,
        PacketEnd,
        Invalidated,
        Raw,
    }

    /// <summary>
    /// A register's or slot's value: a constant's value, a stack pointer's offset from R10, a data section address, a
    /// maybe-NULL pointer's id, a packet pointer's offset and proven range (<see cref="AtPacketEnd"/>,
    /// <see cref="BeyondPacketEnd"/> below 0), or — <see cref="Kind.Raw"/> — a scalar just loaded in fewer than 8 bytes,
    /// whose range the verifier knows to be all its size holds (0 to <c>Off</c>) until a comparison narrows it (its
    /// <c>Id</c>, the load's, is shared by its copies as the verifier's scalar ids are).
    /// </summary>
    private readonly record struct Value(Kind Kind, long Off, int Range, int Id) : IPathValue<Value>
    {
        public static readonly Value Unknown = default;

        public static Value FramePointer => new(Kind.Stack, 0, 0, 0);

        public bool IsStack => Kind == Kind.Stack;

        public int StackOffset => (int)Off;

        public static Value Constant(ulong value) => new(Kind.Constant, (long)value, 0, 0);
    }

    /// <summary>enum { AT_PKT_END = -1, BEYOND_PKT_END = -2 } (verifier.c): what the failing edge of a comparison leaves.</summary>
    private const int AtPacketEnd = -1, BeyondPacketEnd = -2;

    /// <summary>MAX_PACKET_OFF (include/linux/bpf_verifier.h).</summary>
    private const int MaxPacketOff = 0xffff;

    private const int SkStorageGet = 107;
    private const int TaskStorageGet = 156;
    private const int MapLookupPercpuElem = 195;
    private const int XdpAdjustMeta = 54;

    /// <summary>reg_type_str of PTR_TO_MAP_VALUE | PTR_MAYBE_NULL (kernel/bpf/log.c).</summary>
    private const string MaybeNullName = "map_value_or_null";

    /// <summary>The helpers whose bpf_func_proto has ret_type RET_PTR_TO_MAP_VALUE_OR_NULL.</summary>
    private static bool ReturnsMaybeNull(int helper) =>
        helper is BaseHelpers.MapLookupElem or MapLookupPercpuElem or SkStorageGet or TaskStorageGet;

    /// <summary>bpf_helper_changes_pkt_data (net/core/filter.c), the XDP ones.</summary>
    private static bool ChangesPacketData(int helper) => helper is XdpHelpers.XdpAdjustHead or XdpAdjustMeta or XdpHelpers.XdpAdjustTail;

    /// <param name="xdp">R1 is an XDP program's struct xdp_md, whose data and data_end are followed.</param>
    /// <param name="readOnlyData">The object's frozen read-only data, or null.</param>
    public static BpfResult Check(string name, Instruction[] insns, bool[] second, bool xdp, ReadOnlyData? readOnlyData)
    {
        var entry = new PathState<Value>();
        if (xdp)
        {
            entry.Regs[1] = new Value(Kind.Context, 0, 0, 0);
        }
        return PathWalk.Run(insns, second, entry, (i, state) => StepOnPath(name, insns, i, state, readOnlyData),
            (i, taken, state) => Branch(insns[i], taken, state));
    }

    /// <summary>
    /// A fault is refused only on a path the verifier surely walks; on one it might know to be dead (the state is
    /// <see cref="PathState{T}.Uncertain"/>) it is left to the run-time check, and what the instruction wrote is unknown.
    /// </summary>
    private static BpfResult StepOnPath(string name, Instruction[] insns, int i, PathState<Value> s, ReadOnlyData? readOnlyData)
    {
        var r = Step(name, insns, i, s, readOnlyData);
        if (r.IsOk || !s.Uncertain)
        {
            return r;
        }
        if (insns[i].Class is OpCode.Ldx or OpCode.Alu64)
        {
            s.Regs[insns[i].Dst] = Value.Unknown;
        }
        return BpfResult.Ok;
    }

    private static BpfResult Fail(string name, int i, string message, Errno errno = Errno.EACCES) =>
        ProgramChecks.Fail(errno, name, $"{message} (insn {i})");

    private static BpfResult Step(string name, Instruction[] insns, int i, PathState<Value> s, ReadOnlyData? readOnlyData)
    {
        var insn = insns[i];
        int op = insn.Opcode & 0xf0;
        bool fromReg = (insn.Opcode & 0x08) == OpCode.X;
        int size = OpCode.BytesOf(insn.Opcode & 0x18);
        switch (insn.Class)
        {
            case OpCode.Alu64:
                return Alu64(name, insn, i, s, op, fromReg);
            case OpCode.Alu:
            {
                var dst = s.Regs[insn.Dst];
                var src = fromReg ? s.Regs[insn.Src] : Value.Constant((uint)insn.Imm);
                bool known = src.Kind == Kind.Constant && (op == OpCode.Mov || dst.Kind == Kind.Constant);
                s.Regs[insn.Dst] = known && ScalarMath.Fold(op, (ulong)dst.Off, (ulong)src.Off, is64: false, insn.Offset) is { } v
                    ? Value.Constant(v)
                    : Value.Unknown;
                return BpfResult.Ok;
            }
            case OpCode.Ld:
            {
                ulong imm = (ulong)(uint)insns[i + 1].Imm << 32 | (uint)insn.Imm;
                s.Regs[insn.Dst] = insn.Src switch
                {
                    0 => Value.Constant(imm),
                    Pseudo.MapValue => new Value(Kind.Data, (long)imm, 0, 0),
                    _ => Value.Unknown,
                };
                return BpfResult.Ok;
            }
            case OpCode.Ldx:
            {
                var from = s.Regs[insn.Src];
                var refused = Access(name, insn.Src, from, insn.Offset, size, i, atomic: false);
                if (!refused.IsOk)
                {
                    return refused;
                }
                long at = from.Off + insn.Offset;
                bool signed = (insn.Opcode & 0xe0) == OpCode.MemSx;
                s.Regs[insn.Dst] = from.Kind switch
                {
                    Kind.Context when size == 4 && at == RunContext.XdpMdData => new Value(Kind.Packet, 0, 0, 0),
                    Kind.Context when size == 4 && at == RunContext.XdpMdDataEnd => new Value(Kind.PacketEnd, 0, 0, 0),
                    Kind.Stack when size == 8 && s.Slots.TryGetValue((int)at, out var spilled) => spilled,
                    Kind.Data when readOnlyData is not null && readOnlyData((ulong)at, size, out ulong v) =>
                        Value.Constant(signed ? SignExtend(v, size) : v),
                    // A narrow load is a scalar of that size's range (coerce_reg_to_size); a fill from the stack may be a
                    // spilled value the verifier knows, and a sign-extending one is not followed.
                    not Kind.Stack when size < 8 && !signed => new Value(Kind.Raw, (long)((1UL << (8 * size)) - 1), 0, i + 1),
                    _ => Value.Unknown,
                };
                return BpfResult.Ok;
            }
            case OpCode.St:
            case OpCode.Stx:
            {
                var to = s.Regs[insn.Dst];
                bool atomic = insn.Class == OpCode.Stx && (insn.Opcode & 0xe0) == OpCode.Atomic;
                var refused = Access(name, insn.Dst, to, insn.Offset, size, i, atomic);
                if (!refused.IsOk)
                {
                    return refused;
                }
                if (to.Kind == Kind.Stack)
                {
                    // Only a whole 8-byte register store spills what the register holds.
                    s.StoreToStack((int)to.Off + insn.Offset, size, insn.Class == OpCode.Stx && !atomic && size == 8 ? s.Regs[insn.Src] : null);
                }
                else if (to.Kind == Kind.Unknown)
                {
                    // A pointer the walk does not follow may point into the stack: no spill there is known any more.
                    s.Slots.Clear();
                }
                if (atomic && (insn.Imm & OpCode.Fetch) != 0)
                {
                    s.Regs[insn.Imm == OpCode.Cmpxchg ? 0 : insn.Src] = Value.Unknown;
                }
                return BpfResult.Ok;
            }
            case OpCode.Jmp when op == OpCode.Call:
            {
                s.ForgetSlotsPassedToCall();
                if (insn.Src == Pseudo.Call)
                {
                    // A static subprogram may check a pointer it is passed (marking the caller's copies too): lenient,
                    // the caller's copies are no longer followed.
                    for (int a = 1; a <= 5; a++)
                    {
                        if (s.Regs[a].Kind == Kind.MaybeNull)
                        {
                            Mark(s, s.Regs[a].Id, Value.Unknown);
                        }
                    }
                }
                for (int r = 0; r <= 5; r++)
                {
                    s.Regs[r] = Value.Unknown;
                }
                if (insn.Src == 0 && ReturnsMaybeNull(insn.Imm))
                {
                    s.Regs[0] = new Value(Kind.MaybeNull, 0, 0, i + 1);
                }
                if (insn.Src == 0 && ChangesPacketData(insn.Imm))
                {
                    Replace(s, v => v.Kind is Kind.Packet or Kind.PacketEnd ? new Value(Kind.Invalidated, 0, 0, 0) : v);
                }
                return BpfResult.Ok;
            }
            default:
                return BpfResult.Ok;
        }
    }

    private static ulong SignExtend(ulong v, int size) => size switch
    {
        1 => (ulong)(sbyte)v,
        2 => (ulong)(short)v,
        4 => (ulong)(int)v,
        _ => v,
    };

    /// <summary>check_mem_access through <paramref name="ptr"/>, for the kinds this walk refuses.</summary>
    private static BpfResult Access(string name, int reg, Value ptr, short insnOffset, int size, int i, bool atomic)
    {
        switch (ptr.Kind)
        {
            case Kind.MaybeNull:
                return Fail(name, i, $"R{reg} invalid mem access '{MaybeNullName}'");
            case Kind.Constant:
            case Kind.Invalidated:
                return Fail(name, i, $"R{reg} invalid mem access 'scalar'");
            case Kind.Packet when atomic:
                // check_atomic
                return Fail(name, i, $"BPF_ATOMIC stores into R{reg} pkt is not allowed");
            case Kind.Packet when ptr.Range < 0:
                return Fail(name, i, $"R{reg} offset is outside of the packet", Errno.EINVAL);
            case Kind.Packet:
                long off = ptr.Off + insnOffset;
                return off >= 0 && off + size <= ptr.Range
                    ? BpfResult.Ok
                    : Fail(name, i, $"invalid access to packet, off={off} size={size}, R{reg}(id=0,off={off},r={ptr.Range}): R{reg} offset is outside of the packet");
            default:
                return BpfResult.Ok;
        }
    }

    private static BpfResult Alu64(string name, Instruction insn, int i, PathState<Value> s, int op, bool fromReg)
    {
        var dst = s.Regs[insn.Dst];
        var src = fromReg ? s.Regs[insn.Src] : Value.Constant((ulong)(long)insn.Imm);
        if (op == OpCode.Mov)
        {
            s.Regs[insn.Dst] = !fromReg || insn.Offset == 0 ? src : Value.Unknown;
            return BpfResult.Ok;
        }
        // adjust_reg_min_max_vals: "pointer op= scalar" and "scalar += pointer" reach adjust_ptr_min_max_vals, which
        // refuses a maybe-NULL pointer before it looks at the operation.
        if (op is not (OpCode.Neg or OpCode.End) &&
            (dst.Kind == Kind.MaybeNull && src.Kind == Kind.Constant || dst.Kind == Kind.Constant && src.Kind == Kind.MaybeNull))
        {
            return Fail(name, i, $"R{insn.Dst} pointer arithmetic on {MaybeNullName} prohibited, null-check it first");
        }
        s.Regs[insn.Dst] = (dst.Kind, src.Kind, op) switch
        {
            (Kind.Constant, Kind.Constant, _) =>
                ScalarMath.Fold(op, (ulong)dst.Off, (ulong)src.Off, is64: true, insn.Offset) is { } v ? Value.Constant(v) : Value.Unknown,
            // A known constant moves a pointer's fixed offset; a packet pointer keeps its range.
            (Kind.Packet or Kind.Stack or Kind.Data, Kind.Constant, OpCode.Add) => Move(dst, src.Off),
            (Kind.Packet or Kind.Stack or Kind.Data, Kind.Constant, OpCode.Sub) => Move(dst, -src.Off),
            (Kind.Constant, Kind.Packet or Kind.Stack or Kind.Data, OpCode.Add) => Move(src, dst.Off),
            _ => Value.Unknown,
        };
        return BpfResult.Ok;
    }

    /// <summary><paramref name="ptr"/> moved by a known constant; stack and packet offsets past MAX_PACKET_OFF are not followed.</summary>
    private static Value Move(Value ptr, long delta)
    {
        long off = unchecked(ptr.Off + delta);
        return ptr.Kind == Kind.Data || off is >= -MaxPacketOff and <= MaxPacketOff ? ptr with { Off = off } : Value.Unknown;
    }

    /// <summary>
    /// What a conditional jump teaches on one edge, or false for an edge the verifier does not follow. An edge of a
    /// comparison this walk cannot decide as the verifier would (values it does not fully know) makes the path
    /// uncertain.
    /// </summary>
    private static bool Branch(Instruction insn, bool taken, PathState<Value> s)
    {
        bool is32 = insn.Class == OpCode.Jmp32;
        bool fromReg = (insn.Opcode & 0x08) == OpCode.X;
        var dst = s.Regs[insn.Dst];
        var src = fromReg ? s.Regs[insn.Src] : Value.Constant(is32 ? (uint)insn.Imm : (ulong)(long)insn.Imm);
        if (!KernelDecidesAsThisWalk(dst, src, is32))
        {
            s.Uncertain = true;
        }
        return BranchCore(insn, taken, s, insn.Opcode & 0xf0, is32, fromReg, dst, src);
    }

    /// <summary>
    /// Whether the verifier decides this comparison exactly when this walk does (is_branch_taken): two constants; a fresh
    /// narrow load against a constant (its range is all the verifier knows); pointers against each other or a constant,
    /// which it decides only for a never-NULL map value against 0 (64-bit) and a packet pointer marked at or beyond the
    /// end, as this walk does. A value this walk does not know may be a constant or a range to the verifier.
    /// </summary>
    private static bool KernelDecidesAsThisWalk(Value dst, Value src, bool is32)
    {
        static bool Pointer(Value v) => v.Kind is Kind.Stack or Kind.Context or Kind.Data or Kind.MaybeNull or Kind.Packet or Kind.PacketEnd;
        if (dst.Kind == Kind.Constant && src.Kind == Kind.Constant || dst.Kind == Kind.Raw && src.Kind == Kind.Constant ||
            dst.Kind == Kind.Constant && src.Kind == Kind.Raw)
        {
            return true;
        }
        if (!(Pointer(dst) && (Pointer(src) || src.Kind == Kind.Constant) || Pointer(src) && dst.Kind == Kind.Constant))
        {
            return false;
        }
        // A map value against 0 in 32 bits: the verifier may decide it, this walk follows both edges.
        return !(is32 && (dst.Kind == Kind.Data && src is { Kind: Kind.Constant, Off: 0 } || src.Kind == Kind.Data && dst is { Kind: Kind.Constant, Off: 0 }));
    }

    private static bool BranchCore(Instruction insn, bool taken, PathState<Value> s, int op, bool is32, bool fromReg, Value dst, Value src)
    {

        // is_branch_taken: two known values; a map value (never NULL) tested against 0.
        if (dst.Kind == Kind.Constant && src.Kind == Kind.Constant)
        {
            return ScalarMath.Decide(op, (ulong)dst.Off, (ulong)src.Off, is32) == taken;
        }
        if (!is32 && op is OpCode.Jeq or OpCode.Jne && (dst.Kind == Kind.Data && src is { Kind: Kind.Constant, Off: 0 } ||
            src.Kind == Kind.Data && dst is { Kind: Kind.Constant, Off: 0 }))
        {
            return (op == OpCode.Jne) == taken;
        }

        // mark_ptr_or_null_regs: the value on the non-NULL edge, the scalar 0 on the other.
        if (!is32 && !fromReg && insn.Imm == 0 && op is OpCode.Jeq or OpCode.Jne && dst.Kind == Kind.MaybeNull)
        {
            bool isNull = (op == OpCode.Jeq) == taken;
            Mark(s, dst.Id, isNull ? Value.Constant(0) : Value.Unknown);
            return true;
        }
        if (RawAgainstConstant(op, dst, src, is32, out bool? rawDecided, out int rawId))
        {
            // The verifier knows a fresh narrow load's range: it decides what that range decides, and narrows the value
            // (and its copies) on both edges, which this walk then no longer follows.
            if (rawDecided is { } d)
            {
                return d == taken;
            }
            Replace(s, v => v.Kind == Kind.Raw && v.Id == rawId ? Value.Unknown : v);
            return true;
        }
        if (fromReg && (dst.Kind == Kind.MaybeNull || src.Kind == Kind.MaybeNull))
        {
            // Compared with another register: checked when that one is known NULL or a pointer, which this walk does not
            // tell apart; lenient, no longer followed.
            if (dst.Kind == Kind.MaybeNull)
            {
                Mark(s, dst.Id, Value.Unknown);
            }
            if (src.Kind == Kind.MaybeNull)
            {
                Mark(s, src.Id, Value.Unknown);
            }
            return true;
        }

        bool dstPacket = dst.Kind is Kind.Packet or Kind.PacketEnd, srcPacket = src.Kind is Kind.Packet or Kind.PacketEnd;
        if (fromReg && (dstPacket && src.Kind == Kind.Unknown || srcPacket && dst.Kind == Kind.Unknown))
        {
            // A packet pointer compared with something the walk lost track of (a pointer moved by a value the kernel may
            // know): what that proves is unknown here, so the packet is no longer followed on this path.
            Replace(s, v => v.Kind is Kind.Packet or Kind.PacketEnd ? Value.Unknown : v);
            return true;
        }
        if (!fromReg || is32)
        {
            return true;
        }
        Value pkt;
        int pktReg;
        if (dst.Kind == Kind.Packet && src.Kind == Kind.PacketEnd)
        {
            (pkt, pktReg) = (dst, insn.Dst);
        }
        else if (dst.Kind == Kind.PacketEnd && src.Kind == Kind.Packet)
        {
            (pkt, pktReg) = (src, insn.Src);
            op = Flip(op);
        }
        else
        {
            return true;
        }
        // Now "pkt OP end". is_pkt_ptr_branch_taken: a pointer already known at or beyond the end.
        if (pkt.Range < 0)
        {
            bool? decided = op switch
            {
                OpCode.Jle or OpCode.Jgt when pkt.Range == BeyondPacketEnd => op == OpCode.Jgt,
                OpCode.Jlt or OpCode.Jge when pkt.Range is BeyondPacketEnd or AtPacketEnd => op == OpCode.Jge,
                _ => null,
            };
            if (decided is { } d)
            {
                return d == taken;
            }
        }
        // try_match_pkt_pointers, as "pkt OP end": which edge proves the range (right-open: one byte more), and what
        // the other edge leaves in that register.
        (bool ProvenOnTaken, bool Open, int Mark)? rule = op switch
        {
            OpCode.Jgt => (false, false, BeyondPacketEnd),
            OpCode.Jlt => (true, true, AtPacketEnd),
            OpCode.Jge => (false, true, AtPacketEnd),
            OpCode.Jle => (true, false, BeyondPacketEnd),
            _ => null,
        };
        if (rule is not { } r)
        {
            return true;
        }
        if (r.ProvenOnTaken == taken)
        {
            // find_good_pkt_pointers
            if (pkt.Off >= 0 && !(pkt.Off == 0 && r.Open))
            {
                int range = (int)pkt.Off + (r.Open ? 1 : 0);
                Replace(s, v => v.Kind == Kind.Packet && v.Range < range ? v with { Range = range } : v);
            }
        }
        else
        {
            // mark_pkt_end: only the compared register.
            s.Regs[pktReg] = s.Regs[pktReg] with { Range = r.Mark };
        }
        return true;
    }

    /// <summary>
    /// A fresh narrow load compared with a constant by an unsigned comparison: whether its range [0, max] decides the
    /// jump (null when it does not).
    /// </summary>
    private static bool RawAgainstConstant(int op, Value dst, Value src, bool is32, out bool? decided, out int id)
    {
        decided = null;
        id = 0;
        Value raw, c;
        if (dst.Kind == Kind.Raw && src.Kind == Kind.Constant)
        {
            (raw, c) = (dst, src);
        }
        else if (dst.Kind == Kind.Constant && src.Kind == Kind.Raw)
        {
            (raw, c) = (src, dst);
            op = Flip(op);
        }
        else
        {
            return false;
        }
        if (op is not (OpCode.Jeq or OpCode.Jne or OpCode.Jgt or OpCode.Jge or OpCode.Jlt or OpCode.Jle))
        {
            return false;
        }
        id = raw.Id;
        ulong max = (ulong)raw.Off, k = is32 ? (uint)c.Off : (ulong)c.Off;
        decided = op switch
        {
            OpCode.Jeq when k > max => false,
            OpCode.Jne when k > max => true,
            OpCode.Jgt when k >= max => false,
            OpCode.Jge when k > max => false,
            OpCode.Jge when k == 0 => true,
            OpCode.Jlt when k == 0 => false,
            OpCode.Jlt when k > max => true,
            OpCode.Jle when k >= max => true,
            _ => null,
        };
        return true;
    }

    /// <summary>
    /// flip_opcode: the comparison with its operands swapped, for the unsigned ones this walk matches (signed
    /// comparisons, which try_match_pkt_pointers and the range rule here do not use, are left as they are).
    /// </summary>
    private static int Flip(int op) => op switch
    {
        OpCode.Jgt => OpCode.Jlt,
        OpCode.Jlt => OpCode.Jgt,
        OpCode.Jge => OpCode.Jle,
        OpCode.Jle => OpCode.Jge,
        _ => op,
    };

    /// <summary>Every copy of maybe-NULL pointer <paramref name="id"/>, in registers and slots, becomes <paramref name="to"/>.</summary>
    private static void Mark(PathState<Value> s, int id, Value to) =>
        Replace(s, v => v.Kind == Kind.MaybeNull && v.Id == id ? to : v);

    private static void Replace(PathState<Value> s, Func<Value, Value> f)
    {
        for (int r = 0; r < s.Regs.Length; r++)
        {
            s.Regs[r] = f(s.Regs[r]);
        }
        foreach (int slot in s.Slots.Keys.ToList())
        {
            var v = f(s.Slots[slot]);
            if (v.Equals(default(Value)))
            {
                s.Slots.Remove(slot);
            }
            else
            {
                s.Slots[slot] = v;
            }
        }
    }
}
