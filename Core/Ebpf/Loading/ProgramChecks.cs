using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The load-time checks bpfsim makes until it has a verifier, each with the verifier's message (kernel/bpf/verifier.c):
/// known opcodes only, jumps and calls inside the program, the last instruction an exit or a jump, no write to R10,
/// stack accesses inside the 512-byte frame, helpers the program type may call, following pointers from the
/// struct_ops context through registers and stack slots, no store to a kernel struct outside the fields its
/// btf_struct_access allows (EACCES), and — <see cref="PointerChecks"/> — no use of a map lookup's result before its
/// NULL check and no XDP packet access past what the program proved against data_end. Run-time checks of every access back these up.
/// </summary>
internal static class ProgramChecks
{
    /// <param name="gplCompatible">The object's license is one license_is_gpl_compatible (include/linux/license.h) accepts.</param>
    /// <param name="devmapXdp">An XDP program for a devmap entry (SEC("xdp/devmap"): BPF_XDP_DEVMAP), which may read egress_ifindex.</param>
    /// <param name="readOnlyData">The object's frozen .rodata/.kconfig, whose values the verifier knows.</param>
    public static BpfResult Check(string name, Instruction[] insns, StructOpsMember? member, BytecodeSupport support, FunctionTable helpers,
        bool gplCompatible = true, bool devmapXdp = false, ReadOnlyData? readOnlyData = null)
    {
        if (insns.Length == 0)
        {
            return Fail(Errno.EINVAL, name, "the program has no instructions");
        }
        var second = new bool[insns.Length];
        for (int i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            if (second[i])
            {
                continue;
            }
            if (insn.Opcode == OpCode.LdImm64)
            {
                if (i + 1 >= insns.Length || insns[i + 1].Opcode != 0 || insns[i + 1].Registers != 0 || insns[i + 1].Offset != 0)
                {
                    return Fail(Errno.EINVAL, name, $"invalid bpf_ld_imm64 insn at {i}");
                }
                second[i + 1] = true;
            }
            else if (!IsKnown(insn))
            {
                return Fail(Errno.EINVAL, name, $"unknown opcode {insn.Opcode:x2} at insn {i}");
            }
            if (insn.Dst > 10 || insn.Src > 10 && insn.Opcode != OpCode.LdImm64 && !IsCall(insn))
            {
                return Fail(Errno.EINVAL, name, $"R{Math.Max(insn.Dst, insn.Src)} is invalid at insn {i}");
            }
            if (WritesDst(insn) && insn.Dst == 10)
            {
                return Fail(Errno.EACCES, name, $"frame pointer is read only (insn {i})");
            }
            var r = CheckStack(insn, i, name);
            if (!r.IsOk)
            {
                return r;
            }
        }
        for (int i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            if (second[i] || !IsJumpOrCall(insn, out bool isCall) || insn.Class == OpCode.Jmp && (insn.Opcode & 0xf0) == OpCode.Exit)
            {
                continue;
            }
            if (isCall)
            {
                var r = CheckCall(insn, i, name, insns.Length, second, member, support, helpers, gplCompatible);
                if (!r.IsOk)
                {
                    return r;
                }
                continue;
            }
            int target = i + 1 + (insn.Class == OpCode.Jmp32 && (insn.Opcode & 0xf0) == OpCode.Ja ? insn.Imm : insn.Offset);
            if ((uint)target >= (uint)insns.Length || second[target])
            {
                return Fail(Errno.EINVAL, name, $"jump out of range from insn {i} to {target}");
            }
        }
        // check_subprogs: the program must end in an exit or an unconditional jump.
        var last = insns[^1];
        int lastOp = last.Opcode & 0xf0;
        if (second[^1] || !(last.Class == OpCode.Jmp && lastOp is OpCode.Exit or OpCode.Ja || last.Class == OpCode.Jmp32 && lastOp == OpCode.Ja))
        {
            return Fail(Errno.EINVAL, name, "last insn is not an exit or jmp");
        }
        // A struct_ops program's stores through its arguments (btf_struct_access); an XDP program's accesses to its
        // xdp_md. A packet program's packet accesses are checked at run time against data_end.
        var context = member is not null ? ContextWrites.Check(name, insns, second, member, support)
            : support is XdpBytecodeSupport ? ContextWrites.CheckXdp(name, insns, second, devmapXdp)
            : BpfResult.Ok;
        if (!context.IsOk)
        {
            return context;
        }
        // A pointer a helper may return as NULL, used before it is compared with 0; an XDP program's packet read or
        // written beyond what its comparisons with data_end proved.
        return PointerChecks.Check(name, insns, second, xdp: member is null && support is XdpBytecodeSupport, readOnlyData);
    }

    internal static BpfResult Fail(Errno errno, string program, string message) =>
        BpfResult.Fail(errno, $"prog '{program}': {message}").For(BpfCommand.ProgLoad);

    private static bool IsCall(Instruction insn) => insn.Opcode == (OpCode.Jmp | OpCode.Call);

    private static bool IsJumpOrCall(Instruction insn, out bool isCall)
    {
        isCall = false;
        if (insn.Class is not (OpCode.Jmp or OpCode.Jmp32))
        {
            return false;
        }
        int op = insn.Opcode & 0xf0;
        if (op == OpCode.Exit)
        {
            return true; // exits end a path; they are checked as "last insn"
        }
        isCall = op == OpCode.Call;
        return true;
    }

    private static bool WritesDst(Instruction insn) => insn.Class switch
    {
        OpCode.Alu or OpCode.Alu64 or OpCode.Ldx => true,
        OpCode.Ld => insn.Opcode == OpCode.LdImm64,
        _ => false,
    };

    /// <summary>Opcodes of the instruction set up to cpu v4 that a struct_ops program may contain.</summary>
    private static bool IsKnown(Instruction insn)
    {
        int op = insn.Opcode & 0xf0, size = insn.Opcode & 0x18, mode = insn.Opcode & 0xe0;
        switch (insn.Class)
        {
            case OpCode.Ld:
                return false; // only ldimm64, handled by the caller; LD_ABS/LD_IND are for socket filters
            case OpCode.Ldx:
                return mode == OpCode.Mem || mode == OpCode.MemSx && size != OpCode.DW;
            case OpCode.St:
                return mode == OpCode.Mem;
            case OpCode.Stx:
                return mode == OpCode.Mem || mode == OpCode.Atomic && size is OpCode.W or OpCode.DW &&
                    insn.Imm is OpCode.Add or OpCode.Or or OpCode.And or OpCode.Xor
                        or (OpCode.Add | OpCode.Fetch) or (OpCode.Or | OpCode.Fetch) or (OpCode.And | OpCode.Fetch) or (OpCode.Xor | OpCode.Fetch)
                        or OpCode.Xchg or OpCode.Cmpxchg;
            case OpCode.Alu:
            case OpCode.Alu64:
                return op <= OpCode.End && (op != OpCode.End || insn.Imm is 16 or 32 or 64);
            case OpCode.Jmp:
                return op <= OpCode.Jsle;
            case OpCode.Jmp32:
                return op <= OpCode.Jsle && op is not (OpCode.Call or OpCode.Exit);
            default:
                return false;
        }
    }

    /// <summary>check_stack_access_within_bounds: an access through R10 stays inside the frame.</summary>
    private static BpfResult CheckStack(Instruction insn, int i, string name)
    {
        int baseReg = insn.Class switch
        {
            OpCode.Ldx => insn.Src,
            OpCode.St or OpCode.Stx => insn.Dst,
            _ => -1,
        };
        if (baseReg != 10)
        {
            return BpfResult.Ok;
        }
        int size = OpCode.BytesOf(insn.Opcode & 0x18);
        if (insn.Offset >= 0 || insn.Offset < -AddressSpace.StackSize || insn.Offset + size > 0)
        {
            return Fail(Errno.EACCES, name, $"invalid stack off={insn.Offset} size={size} (insn {i})");
        }
        return BpfResult.Ok;
    }

    /// <summary>
    /// The helpers bpfsim offers whose bpf_func_proto has gpl_only (kernel/trace/bpf_trace.c: bpf_trace_printk,
    /// bpf_trace_vprintk, bpf_probe_read_kernel and its _str form); every other one bpfsim offers does not.
    /// </summary>
    private static bool IsGplOnly(int helper) =>
        helper is BaseHelpers.TracePrintk or BaseHelpers.ProbeReadKernel or BaseHelpers.ProbeReadKernelStr or TraceVprintk;

    private const int TraceVprintk = 177;

    /// <summary>check_helper_call (kernel/bpf/verifier.c), once the helper is known to exist for the program's type.</summary>
    private static BpfResult CheckLicense(int helper, int i, string name, bool gplCompatible) =>
        gplCompatible || !IsGplOnly(helper)
            ? BpfResult.Ok
            : Fail(Errno.EINVAL, name, $"cannot call GPL-restricted function from non-GPL compatible program ({HelperNames.TryGetName(helper)}#{helper}, insn {i})");

    private static BpfResult CheckCall(Instruction insn, int i, string name, int length, bool[] second, StructOpsMember? member,
        BytecodeSupport support, FunctionTable helpers, bool gplCompatible)
    {

        switch (insn.Src)
        {
            case Pseudo.Call:
                int target = i + 1 + insn.Imm;
                return (uint)target < (uint)length && !second[target]
                    ? BpfResult.Ok
                    : Fail(Errno.EINVAL, name, $"call to an instruction outside the program (insn {i} → {target})");
            case Pseudo.KfuncCall:
                return BpfResult.Ok; // resolved by the relocation that named it
            case 0:
                if (insn.Imm >= ObjectLoader.PoisonKfuncBase || insn.Imm == CoRe.CoreRelocator.PoisonHelper)
                {
                    return BpfResult.Ok; // poisoned by libbpf's rules: fails only if reached
                }
                if (helpers.TryGet(insn.Imm, out _))
                {
                    return CheckLicense(insn.Imm, i, name, gplCompatible);
                }
                string helperName = HelperNames.TryGetName(insn.Imm) ?? "unknown";
                if (helperName == "unknown")
                {
                    return Fail(Errno.EINVAL, name, $"invalid func unknown#{insn.Imm}");
                }
                var fn = support.Helper(insn.Imm, member!, out string refusal);
                if (fn is null)
                {
                    return Fail(Errno.EINVAL, name, refusal.Length > 0 ? refusal : $"program of this type cannot use helper {helperName}#{insn.Imm}");
                }
                helpers.Add(insn.Imm, helperName, fn);
                return CheckLicense(insn.Imm, i, name, gplCompatible);
            default:
                return Fail(Errno.EINVAL, name, $"unsupported call with src_reg {insn.Src} at insn {i}");
        }
    }
}
