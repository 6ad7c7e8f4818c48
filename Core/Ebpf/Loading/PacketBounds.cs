using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The verifier's packet bounds for XDP programs (kernel/bpf/verifier.c, 6.12): <c>ctx-&gt;data</c> is a packet pointer
/// with nothing proven readable (r=0), <c>ctx-&gt;data_end</c> the packet's end; a 64-bit comparison of
/// <c>data + N</c> with <c>data_end</c> proves N bytes on the branch where it holds (try_match_pkt_pointers,
/// find_good_pkt_pointers), for every pointer into the packet at a constant offset; a load or store through one
/// beyond what is proven is EACCES "invalid access to packet, off=… size=…, R<c>n</c>(id=0,off=…,r=…)" and "R<c>n</c>
/// offset is outside of the packet" (check_packet_access). A helper that may move the packet (bpf_xdp_adjust_head,
/// _meta, _tail) forgets every packet pointer (clear_all_pkt_pointers). Pointers plus a value the walk does not know,
/// and ranges the paths disagree on, are left to the run-time check, which faults past the packet; so a program the
/// kernel accepts is never refused here.
/// </summary>
internal static class PacketBounds
{
    private enum Kind : byte
    {
        Unknown,
        Constant,
        Context,
        Stack,
        Packet,
        PacketEnd,
    }

    /// <summary>A value: a constant's value, a stack pointer's offset from R10, a packet pointer's offset and proven range.</summary>
    private readonly record struct Value(Kind Kind, long Off, int Range) : IPathValue<Value>
    {
        public static readonly Value Unknown = default;

        public static Value FramePointer => new(Kind.Stack, 0, 0);

        public bool IsStack => Kind == Kind.Stack;

        public int StackOffset => (int)Off;

        public static Value Constant(long value) => new(Kind.Constant, value, 0);
    }

    /// <summary>offsetof(struct xdp_md, data) and data_end.</summary>
    private const int XdpData = 0, XdpDataEnd = 4;

    /// <summary>MAX_PACKET_OFF (include/linux/bpf_verifier.h): offsets beyond it prove nothing.</summary>
    private const int MaxPacketOff = 0xffff;

    /// <summary>bpf_helper_changes_pkt_data (net/core/filter.c), the XDP ones: bpf_xdp_adjust_head, _meta, _tail.</summary>
    private static bool ChangesPacketData(int helper) => helper is XdpHelpers.XdpAdjustHead or XdpAdjustMeta or XdpHelpers.XdpAdjustTail;

    private const int XdpAdjustMeta = 54;

    public static BpfResult Check(string name, Instruction[] insns, bool[] second)
    {
        var entry = new PathState<Value>();
        entry.Regs[1] = new Value(Kind.Context, 0, 0);
        return PathWalk.Run(insns, second, entry, (i, state) => Step(name, insns, i, state), (i, taken, state) => Branch(insns[i], taken, state));
    }

    private static BpfResult Step(string name, Instruction[] insns, int i, PathState<Value> s)
    {
        var insn = insns[i];
        int op = insn.Opcode & 0xf0;
        bool fromReg = (insn.Opcode & 0x08) == OpCode.X;
        int size = OpCode.BytesOf(insn.Opcode & 0x18);
        switch (insn.Class)
        {
            case OpCode.Alu64:
                s.Regs[insn.Dst] = Alu64(insn, s, op, fromReg);
                return BpfResult.Ok;
            case OpCode.Alu:
                s.Regs[insn.Dst] = Fold(insn, s, op, fromReg, is64: false);
                return BpfResult.Ok;
            case OpCode.Ld:
                // ld_imm64 of a plain constant; the pseudo forms are map pointers and values.
                s.Regs[insn.Dst] = insn.Src == 0 ? Value.Constant((long)((ulong)(uint)insns[i + 1].Imm << 32 | (uint)insn.Imm)) : Value.Unknown;
                return BpfResult.Ok;
            case OpCode.Ldx:
            {
                var from = s.Regs[insn.Src];
                if (from.Kind == Kind.Packet)
                {
                    var r = Access(name, insn.Src, from, insn.Offset, size, i);
                    if (!r.IsOk)
                    {
                        return r;
                    }
                }
                long at = from.Off + insn.Offset;
                s.Regs[insn.Dst] = from.Kind switch
                {
                    Kind.Context when size == 4 && at == XdpData => new Value(Kind.Packet, 0, 0),
                    Kind.Context when size == 4 && at == XdpDataEnd => new Value(Kind.PacketEnd, 0, 0),
                    Kind.Stack when size == 8 && s.Slots.TryGetValue((int)at, out var spilled) => spilled,
                    _ => Value.Unknown,
                };
                return BpfResult.Ok;
            }
            case OpCode.St:
            case OpCode.Stx:
            {
                var to = s.Regs[insn.Dst];
                if (to.Kind == Kind.Packet)
                {
                    return Access(name, insn.Dst, to, insn.Offset, size, i);
                }
                bool atomic = insn.Class == OpCode.Stx && (insn.Opcode & 0xe0) == OpCode.Atomic;
                if (to.Kind == Kind.Stack)
                {
                    s.StoreToStack((int)to.Off + insn.Offset, size, insn.Class == OpCode.Stx && !atomic && size == 8 ? s.Regs[insn.Src] : null);
                }
                if (atomic && (insn.Imm & OpCode.Fetch) != 0)
                {
                    s.Regs[insn.Imm == OpCode.Cmpxchg ? 0 : insn.Src] = Value.Unknown;
                }
                return BpfResult.Ok;
            }
            case OpCode.Jmp when op == OpCode.Call:
            {
                // A call may write the stack through a pointer to it; a subprogram or a helper may move the packet.
                s.ForgetSlotsPassedToCall();
                for (int r = 0; r <= 5; r++)
                {
                    s.Regs[r] = Value.Unknown;
                }
                if (insn.Src != 0 || ChangesPacketData(insn.Imm))
                {
                    ForgetPacket(s);
                }
                return BpfResult.Ok;
            }
            default:
                return BpfResult.Ok;
        }
    }

    /// <summary>check_packet_access through a packet pointer at a constant offset.</summary>
    private static BpfResult Access(string name, int reg, Value ptr, int insnOffset, int size, int i)
    {
        long off = ptr.Off + insnOffset;
        return off >= 0 && off + size <= ptr.Range
            ? BpfResult.Ok
            : ProgramChecks.Fail(Errno.EACCES, name,
                $"invalid access to packet, off={off} size={size}, R{reg}(id=0,off={off},r={ptr.Range}): R{reg} offset is outside of the packet (insn {i})");
    }

    private static Value Alu64(Instruction insn, PathState<Value> s, int op, bool fromReg)
    {
        var dst = s.Regs[insn.Dst];
        var src = fromReg ? s.Regs[insn.Src] : Value.Constant(insn.Imm);
        if (op == OpCode.Mov && fromReg && insn.Offset == 0)
        {
            return src;
        }
        long sum;
        switch (dst.Kind, src.Kind, op)
        {
            case (Kind.Packet or Kind.Stack, Kind.Constant, OpCode.Add or OpCode.Sub):
                // adjust_ptr_min_max_vals: a known constant moves the pointer's fixed offset; the range stays.
                sum = op == OpCode.Add ? dst.Off + src.Off : dst.Off - src.Off;
                return sum is >= -MaxPacketOff and <= MaxPacketOff ? dst with { Off = sum } : Value.Unknown;
            case (Kind.Constant, Kind.Packet, OpCode.Add):
                sum = dst.Off + src.Off;
                return sum is >= -MaxPacketOff and <= MaxPacketOff ? src with { Off = sum } : Value.Unknown;
            default:
                return Fold(insn, s, op, fromReg, is64: true);
        }
    }

    /// <summary>
    /// A constant operation's result (the kernel knows every constant exactly: tnum), so that a pointer moved by a
    /// constant computed in registers keeps its offset as the verifier's does; anything else is unknown.
    /// </summary>
    private static Value Fold(Instruction insn, PathState<Value> s, int op, bool fromReg, bool is64)
    {
        var dst = s.Regs[insn.Dst];
        var src = fromReg ? s.Regs[insn.Src] : Value.Constant(is64 ? insn.Imm : (uint)insn.Imm);
        if (op is OpCode.Neg or OpCode.End ? dst.Kind != Kind.Constant : op != OpCode.Mov && dst.Kind != Kind.Constant || src.Kind != Kind.Constant)
        {
            return Value.Unknown;
        }
        if (insn.Offset != 0)
        {
            return Value.Unknown; // signed division, sign-extending moves
        }
        ulong a = (ulong)dst.Off, b = (ulong)src.Off;
        if (!is64)
        {
            a = (uint)a;
            b = (uint)b;
        }
        int bits = is64 ? 64 : 32;
        ulong? r = op switch
        {
            OpCode.Mov => b,
            OpCode.Add => a + b,
            OpCode.Sub => a - b,
            OpCode.Mul => a * b,
            OpCode.Div => b == 0 ? 0 : a / b,
            OpCode.Mod => b == 0 ? a : a % b,
            OpCode.Or => a | b,
            OpCode.And => a & b,
            OpCode.Xor => a ^ b,
            OpCode.Lsh => a << (int)(b & (ulong)(bits - 1)),
            OpCode.Rsh => a >> (int)(b & (ulong)(bits - 1)),
            OpCode.Arsh => is64 ? (ulong)((long)a >> (int)(b & 63)) : (uint)((int)(uint)a >> (int)(b & 31)),
            OpCode.Neg => 0 - a,
            _ => null,
        };
        return r is not { } v ? Value.Unknown : Value.Constant(is64 ? (long)v : (long)(uint)v);
    }

    /// <summary>
    /// try_match_pkt_pointers: <c>pkt OP pkt_end</c> (either order, 64-bit, registers) proves the packet pointer's offset
    /// on one edge, one byte more where the comparison is strict towards the end.
    /// </summary>
    private static void Branch(Instruction insn, bool taken, PathState<Value> s)
    {
        if ((insn.Opcode & 0x08) != OpCode.X)
        {
            return;
        }
        var dst = s.Regs[insn.Dst];
        var src = s.Regs[insn.Src];
        if (dst.Kind is Kind.Packet or Kind.PacketEnd && src.Kind == Kind.Unknown || src.Kind is Kind.Packet or Kind.PacketEnd && dst.Kind == Kind.Unknown)
        {
            // A packet pointer compared with something the walk lost track of (a pointer moved by a value it does not
            // know, which the kernel may know): what that comparison proves is unknown here, so nothing is checked after it.
            ForgetPacket(s);
            return;
        }
        if (insn.Class != OpCode.Jmp)
        {
            return;
        }
        int op = insn.Opcode & 0xf0;
        // (edge that proves it, right-open) for pkt OP end, and for end OP pkt.
        (bool OnTaken, bool Open)? rule;
        Value pkt;
        if (dst.Kind == Kind.Packet && src.Kind == Kind.PacketEnd)
        {
            pkt = dst;
            rule = op switch
            {
                OpCode.Jgt => (false, false), // pkt > end fails: pkt <= end
                OpCode.Jlt => (true, true),   // pkt < end
                OpCode.Jge => (false, true),  // pkt >= end fails: pkt < end
                OpCode.Jle => (true, false),  // pkt <= end
                _ => null,
            };
        }
        else if (dst.Kind == Kind.PacketEnd && src.Kind == Kind.Packet)
        {
            pkt = src;
            rule = op switch
            {
                OpCode.Jgt => (true, true),   // end > pkt
                OpCode.Jlt => (false, false), // end < pkt fails: end >= pkt
                OpCode.Jge => (true, false),  // end >= pkt
                OpCode.Jle => (false, true),  // end <= pkt fails: end > pkt
                _ => null,
            };
        }
        else
        {
            return;
        }
        if (rule is not { } r || r.OnTaken != taken)
        {
            return;
        }
        // find_good_pkt_pointers
        if (pkt.Off < 0 || pkt.Off == 0 && r.Open)
        {
            return;
        }
        int range = (int)pkt.Off + (r.Open ? 1 : 0);
        for (int i = 0; i < s.Regs.Length; i++)
        {
            if (s.Regs[i].Kind == Kind.Packet && s.Regs[i].Range < range)
            {
                s.Regs[i] = s.Regs[i] with { Range = range };
            }
        }
        foreach (int slot in s.Slots.Keys.ToList())
        {
            if (s.Slots[slot].Kind == Kind.Packet && s.Slots[slot].Range < range)
            {
                s.Slots[slot] = s.Slots[slot] with { Range = range };
            }
        }
    }

    /// <summary>clear_all_pkt_pointers: after a helper that may move the packet, no pointer into it is known.</summary>
    private static void ForgetPacket(PathState<Value> s)
    {
        for (int i = 0; i < s.Regs.Length; i++)
        {
            if (s.Regs[i].Kind is Kind.Packet or Kind.PacketEnd)
            {
                s.Regs[i] = Value.Unknown;
            }
        }
        foreach (int slot in s.Slots.Keys.ToList())
        {
            if (s.Slots[slot].Kind is Kind.Packet or Kind.PacketEnd)
            {
                s.Slots.Remove(slot);
            }
        }
    }
}
