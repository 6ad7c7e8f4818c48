using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The verifier's rule that a pointer a helper may return as NULL is compared with 0 before it is used
/// (kernel/bpf/verifier.c): bpf_map_lookup_elem, bpf_map_lookup_percpu_elem, bpf_sk_storage_get and
/// bpf_task_storage_get return PTR_TO_MAP_VALUE | PTR_MAYBE_NULL; a load or store through it is EACCES
/// "R&lt;n&gt; invalid mem access 'map_value_or_null'" (check_mem_access), arithmetic on it "R&lt;n&gt; pointer arithmetic on
/// map_value_or_null prohibited, null-check it first" (adjust_ptr_min_max_vals). A 64-bit <c>== 0</c> or
/// <c>!= 0</c> test of it, or of any copy of it in a register or an 8-byte stack slot (the same id:
/// mark_ptr_or_null_regs), clears it on both branches. The walk follows every path and merges states where paths
/// meet; a value the paths disagree on is forgotten, so a use is refused only when every path to it carries the
/// unchecked pointer. What this walk does not see (a NULL pointer passed to a helper, constants that make a branch
/// dead) is left to the run-time check of every access, which faults instead.
/// </summary>
internal static class NullChecks
{
    private enum Kind : byte
    {
        Unknown,
        Scalar,
        Stack,
        MaybeNull,
    }

    /// <summary>A register's or slot's value: for <see cref="Kind.Stack"/> its offset from R10, for <see cref="Kind.MaybeNull"/> its id.</summary>
    private readonly record struct Value(Kind Kind, int Data) : IPathValue<Value>
    {
        public static readonly Value Unknown = default;
        public static readonly Value Scalar = new(Kind.Scalar, 0);

        public static Value FramePointer => new(Kind.Stack, 0);

        public bool IsStack => Kind == Kind.Stack;

        public int StackOffset => Data;
    }

    /// <summary>mark_ptr_or_null_regs: every copy of pointer <paramref name="id"/> is checked now.</summary>
    private static void MarkChecked(PathState<Value> s, int id)
    {
        var maybe = new Value(Kind.MaybeNull, id);
        for (int r = 0; r < s.Regs.Length; r++)
        {
            if (s.Regs[r] == maybe)
            {
                s.Regs[r] = Value.Unknown;
            }
        }
        foreach (int slot in s.Slots.Keys.ToList())
        {
            if (s.Slots[slot] == maybe)
            {
                s.Slots.Remove(slot);
            }
        }
    }

    /// <summary>The helpers whose bpf_func_proto has ret_type RET_PTR_TO_MAP_VALUE_OR_NULL.</summary>
    private static bool ReturnsMaybeNull(int helper) =>
        helper is BaseHelpers.MapLookupElem or MapLookupPercpuElem or SkStorageGet or TaskStorageGet;

    private const int SkStorageGet = 107;
    private const int TaskStorageGet = 156;
    private const int MapLookupPercpuElem = 195;

    /// <summary>reg_type_str of PTR_TO_MAP_VALUE | PTR_MAYBE_NULL (kernel/bpf/log.c).</summary>
    private const string MaybeNullName = "map_value_or_null";

    /// <summary>Walks <paramref name="insns"/> (already checked for opcodes, registers and jump targets).</summary>
    public static BpfResult Check(string name, Instruction[] insns, bool[] second) =>
        PathWalk.Run(insns, second, new PathState<Value>(), (i, state) => Step(name, insns[i], i, state));

    private static BpfResult InvalidAccess(string name, int reg, int i) =>
        ProgramChecks.Fail(Errno.EACCES, name, $"R{reg} invalid mem access '{MaybeNullName}' (insn {i})");

    private static BpfResult Step(string name, Instruction insn, int i, PathState<Value> s)
    {
        int op = insn.Opcode & 0xf0;
        bool fromReg = (insn.Opcode & 0x08) == OpCode.X;
        int size = OpCode.BytesOf(insn.Opcode & 0x18);
        switch (insn.Class)
        {
            case OpCode.Alu64:
                return Alu64(name, insn, i, s, op, fromReg);
            case OpCode.Alu:
                // 32-bit results are scalars (a 32-bit operation on a pointer is refused by the kernel or yields one).
                s.Regs[insn.Dst] = Value.Scalar;
                return BpfResult.Ok;
            case OpCode.Ld:
                // ld_imm64 of a plain constant; the pseudo forms load map pointers and map values, never NULL.
                s.Regs[insn.Dst] = insn.Src == 0 ? Value.Scalar : Value.Unknown;
                return BpfResult.Ok;
            case OpCode.Ldx:
            {
                var from = s.Regs[insn.Src];
                if (from.Kind == Kind.MaybeNull)
                {
                    return InvalidAccess(name, insn.Src, i);
                }
                int at = from.Data + insn.Offset;
                s.Regs[insn.Dst] = from.Kind == Kind.Stack && size == 8 && s.Slots.TryGetValue(at, out var spilled) ? spilled
                    : size < 8 ? Value.Scalar // no pointer fits in fewer than 8 bytes
                    : Value.Unknown;
                return BpfResult.Ok;
            }
            case OpCode.St:
            case OpCode.Stx:
            {
                var to = s.Regs[insn.Dst];
                if (to.Kind == Kind.MaybeNull)
                {
                    return InvalidAccess(name, insn.Dst, i);
                }
                bool atomic = insn.Class == OpCode.Stx && (insn.Opcode & 0xe0) == OpCode.Atomic;
                if (to.Kind == Kind.Stack)
                {
                    // Only a whole 8-byte register store spills a pointer (or keeps a scalar a scalar).
                    s.StoreToStack(to.Data + insn.Offset, size, insn.Class == OpCode.Stx && !atomic && size == 8 ? s.Regs[insn.Src] : null);
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
                for (int r = 0; r <= 5; r++)
                {
                    s.Regs[r] = Value.Unknown;
                }
                if (insn.Src == 0 && ReturnsMaybeNull(insn.Imm))
                {
                    s.Regs[0] = new Value(Kind.MaybeNull, i + 1);
                }
                return BpfResult.Ok;
            }
            case OpCode.Jmp when op is OpCode.Jeq or OpCode.Jne:
                // A pointer compared with 0 (64-bit, immediate) is checked on both branches: NULL on one, the value on the
                // other. A comparison with a register is taken as a check too, which the kernel does only when that
                // register is known to be 0 or a pointer: lenient where bpfsim does not track the other side.
                if (s.Regs[insn.Dst].Kind == Kind.MaybeNull && (!fromReg && insn.Imm == 0 || fromReg))
                {
                    MarkChecked(s, s.Regs[insn.Dst].Data);
                }
                if (fromReg && s.Regs[insn.Src].Kind == Kind.MaybeNull)
                {
                    MarkChecked(s, s.Regs[insn.Src].Data);
                }
                return BpfResult.Ok;
            default:
                return BpfResult.Ok;
        }
    }

    private static BpfResult Alu64(string name, Instruction insn, int i, PathState<Value> s, int op, bool fromReg)
    {
        var dst = s.Regs[insn.Dst];
        var src = fromReg ? s.Regs[insn.Src] : Value.Scalar;
        switch (op)
        {
            case OpCode.Mov:
                s.Regs[insn.Dst] = fromReg && insn.Offset == 0 ? src : Value.Scalar;
                return BpfResult.Ok;
            case OpCode.Neg:
            case OpCode.End:
                s.Regs[insn.Dst] = dst.Kind == Kind.Scalar ? Value.Scalar : Value.Unknown;
                return BpfResult.Ok;
        }
        // adjust_reg_min_max_vals: "pointer op= scalar" and "scalar += pointer" both reach adjust_ptr_min_max_vals, which
        // refuses a maybe-NULL pointer before it looks at the operation.
        if (dst.Kind == Kind.MaybeNull && src.Kind == Kind.Scalar || dst.Kind == Kind.Scalar && src.Kind == Kind.MaybeNull)
        {
            return ProgramChecks.Fail(Errno.EACCES, name,
                $"R{insn.Dst} pointer arithmetic on {MaybeNullName} prohibited, null-check it first (insn {i})");
        }
        s.Regs[insn.Dst] = (dst.Kind, src.Kind, op) switch
        {
            (Kind.Scalar, Kind.Scalar, _) => Value.Scalar,
            (Kind.Stack, _, OpCode.Add) when !fromReg => dst with { Data = dst.Data + insn.Imm },
            (Kind.Stack, _, OpCode.Sub) when !fromReg => dst with { Data = dst.Data - insn.Imm },
            _ => Value.Unknown,
        };
        return BpfResult.Ok;
    }
}
