using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// Finds, before a program runs, stores into a kernel struct the program type may not write (the verifier's
/// btf_struct_access check, e.g. bpf_tcp_ca_btf_struct_access: EACCES "no write support to tcp_sock at off N"). It
/// follows what the verifier follows for this: the context (R1: the trampoline's argument array), the argument
/// pointers loaded from it, constant offsets added to them, and their spills to 8-byte stack slots, across every path
/// (states merge to "unknown" where paths disagree). A store through a pointer it lost track of is left to the
/// run-time check of every access, which faults instead.
/// </summary>
internal static class ContextWrites
{
    private enum Kind : byte
    {
        Unknown,
        Context,
        Argument,
        Stack,
    }

    private readonly record struct Value(Kind Kind, int Argument, int Offset) : IPathValue<Value>
    {
        public static readonly Value Unknown = default;

        public static Value FramePointer => new(Kind.Stack, 0, 0);

        public bool IsStack => Kind == Kind.Stack;

        public int StackOffset => Offset;
    }

    /// <summary>
    /// An XDP program's accesses to its context, struct xdp_md (xdp_is_valid_access in net/core/filter.c): aligned
    /// 4-byte reads of its fields, egress_ifindex (only a devmap program, BPF_XDP_DEVMAP, may read it), no writes (only an offloaded program may
    /// write rx_queue_index). Otherwise EACCES "invalid bpf_context access".
    /// </summary>
    public static BpfResult CheckXdp(string name, Instruction[] insns, bool[] second, bool devmap) =>
        Run(name, insns, second, new WriteFilter?[BytecodeProgram.MaxArgs], null, BytecodeProgram.MaxArgs, devmap);

    public static BpfResult Check(string name, Instruction[] insns, bool[] second, StructOpsMember member, BytecodeSupport support)
    {
        var filters = new WriteFilter?[BytecodeProgram.MaxArgs];
        for (int a = 0; a < filters.Length; a++)
        {
            filters[a] = support.ArgumentWrites(member, a);
        }
        // The member's arguments, as its C prototype has them (the delegate's parameters).
        int arity = member.Signature?.GetMethod("Invoke")?.GetParameters().Length ?? BytecodeProgram.MaxArgs;
        return Run(name, insns, second, filters, member, arity, devmap: false);
    }

    /// <summary>The walk over every path; <paramref name="member"/> null means the context is an XDP program's xdp_md.</summary>
    private static BpfResult Run(string name, Instruction[] insns, bool[] second, WriteFilter?[] filters, StructOpsMember? member, int arity, bool devmap)
    {
        var entry = new PathState<Value>();
        entry.Regs[1] = new Value(Kind.Context, 0, 0);
        return PathWalk.Run(insns, second, entry, (i, state) => Step(name, insns[i], i, state, filters, member, arity, devmap));
    }

    private static BpfResult Step(string name, Instruction insn, int i, PathState<Value> s, WriteFilter?[] filters, StructOpsMember? member, int arity,
        bool devmap)
    {
        int op = insn.Opcode & 0xf0;
        int size = OpCode.BytesOf(insn.Opcode & 0x18);
        switch (insn.Class)
        {
            case OpCode.Alu64:
                s.Regs[insn.Dst] = (op, insn.Opcode & 0x08) switch
                {
                    (OpCode.Mov, OpCode.X) when insn.Offset == 0 => s.Regs[insn.Src],
                    (OpCode.Add, OpCode.K) when s.Regs[insn.Dst].Kind != Kind.Unknown => s.Regs[insn.Dst] with { Offset = s.Regs[insn.Dst].Offset + insn.Imm },
                    (OpCode.Sub, OpCode.K) when s.Regs[insn.Dst].Kind != Kind.Unknown => s.Regs[insn.Dst] with { Offset = s.Regs[insn.Dst].Offset - insn.Imm },
                    _ => Value.Unknown,
                };
                return BpfResult.Ok;
            case OpCode.Alu:
            case OpCode.Ld:
                s.Regs[insn.Dst] = Value.Unknown;
                return BpfResult.Ok;
            case OpCode.Ldx:
            {
                var from = s.Regs[insn.Src];
                int at = from.Offset + insn.Offset;
                if (from.Kind == Kind.Context && member is null)
                {
                    s.Regs[insn.Dst] = Value.Unknown;
                    return at < 0 || at >= RunContext.XdpMdSize || at % size != 0 || size != 4 || (at == RunContext.XdpMdEgressIfindex && !devmap)
                        ? ProgramChecks.Fail(Errno.EACCES, name, $"invalid bpf_context access off={at} size={size} (insn {i})")
                        : BpfResult.Ok;
                }
                if (from.Kind == Kind.Context && (at < 0 || at >= filters.Length * 8 || at % size != 0))
                {
                    // bpf_tracing_ctx_access: the context is the u64 arguments, read whole or in aligned parts.
                    return ProgramChecks.Fail(Errno.EACCES, name, $"invalid bpf_context access off={at} size={size} (insn {i})");
                }
                if (from.Kind == Kind.Context && at / 8 >= arity)
                {
                    // btf_ctx_access (kernel/bpf/btf.c): past the member's last argument there is nothing to read.
                    return ProgramChecks.Fail(Errno.EACCES, name, $"func '{member!.Name}' doesn't have {at / 8 + 1}-th argument (insn {i})");
                }
                s.Regs[insn.Dst] = from.Kind switch
                {
                    Kind.Context when size == 8 && at % 8 == 0 && at / 8 < filters.Length && filters[at / 8] is not null =>
                        new Value(Kind.Argument, at / 8, 0),
                    Kind.Stack when size == 8 && s.Slots.TryGetValue(at, out var spilled) => spilled,
                    _ => Value.Unknown,
                };
                return BpfResult.Ok;
            }
            case OpCode.St:
            case OpCode.Stx:
            {
                var to = s.Regs[insn.Dst];
                int at = to.Offset + insn.Offset;
                if (to.Kind == Kind.Stack)
                {
                    bool spill = insn.Class == OpCode.Stx && (insn.Opcode & 0xe0) == OpCode.Mem && size == 8;
                    s.StoreToStack(at, size, spill ? s.Regs[insn.Src] : null);
                }
                else if (to.Kind == Kind.Context)
                {
                    return ProgramChecks.Fail(Errno.EACCES, name, $"invalid bpf_context access off={at} size={size} (insn {i}: the context is read-only)");
                }
                else if (to.Kind == Kind.Argument && filters[to.Argument] is { } filter)
                {
                    // Atomics too: check_atomic lets them at a PTR_TO_BTF_ID (atomic_ptr_type_ok), then checks the write.
                    string? why = filter.Fields.Count == 0 ? "only read is supported" : filter.Explain(at, size);
                    if (why is not null)
                    {
                        return ProgramChecks.Fail(Errno.EACCES, name, $"{why} (insn {i})");
                    }
                }
                if (insn.Class == OpCode.Stx && (insn.Opcode & 0xe0) == OpCode.Atomic)
                {
                    if ((insn.Imm & OpCode.Fetch) != 0)
                    {
                        s.Regs[insn.Imm == OpCode.Cmpxchg ? 0 : insn.Src] = Value.Unknown;
                    }
                }
                return BpfResult.Ok;
            }
            case OpCode.Jmp when op == OpCode.Call:
                for (int r = 0; r <= 5; r++)
                {
                    s.Regs[r] = Value.Unknown;
                }
                return BpfResult.Ok;
            default:
                return BpfResult.Ok;
        }
    }
}
