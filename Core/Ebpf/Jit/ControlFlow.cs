using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.Jit;

/// <summary>
/// The instructions a run can reach from instruction 0, cut into straight-line blocks: a block starts at the entry,
/// at a jump or call target, after a jump, a bpf-to-bpf call or an exit, and where two instructions fall through
/// into one (an ldimm64 and a jump into its second slot). Every instruction of a block runs when its first does,
/// up to a fault or the budget, so the compiled code charges the budget once per block.
/// </summary>
internal sealed class ControlFlow
{
    private readonly bool[] _reached;
    private readonly bool[] _leader;

    private ControlFlow(bool[] reached, bool[] leader, bool hasSubprogramCalls)
    {
        _reached = reached;
        _leader = leader;
        HasSubprogramCalls = hasSubprogramCalls;
    }

    /// <summary>Whether any reachable instruction is a bpf-to-bpf call (the code then keeps frames).</summary>
    public bool HasSubprogramCalls { get; }

    /// <summary>Whether a block starts at index <paramref name="pc"/>.</summary>
    public bool IsLeader(int pc) => _leader[pc];

    /// <summary>Whether a run can start an instruction at index <paramref name="pc"/>.</summary>
    public bool IsReached(int pc) => _reached[pc];

    /// <summary>The index a run goes on at after instruction <paramref name="pc"/> when it does not jump.</summary>
    public static int FallThrough(ReadOnlySpan<Instruction> program, int pc)
        => program[pc].Opcode == OpCode.LdImm64 ? pc + 2 : pc + 1;

    /// <summary>Where a jump or call at <paramref name="pc"/> goes, or -1 for an instruction that does not jump.</summary>
    public static int JumpTarget(ReadOnlySpan<Instruction> program, int pc)
    {
        var insn = program[pc];
        return KindOf(insn) switch
        {
            Flow.Jump or Flow.Branch => pc + 1 + (insn.Opcode == (OpCode.Jmp32 | OpCode.Ja) ? insn.Imm : insn.Offset),
            Flow.SubprogramCall => pc + 1 + insn.Imm,
            _ => -1,
        };
    }

    /// <summary>How an instruction moves the program counter.</summary>
    public static Flow KindOf(Instruction insn)
    {
        byte op = insn.Opcode;
        int cls = insn.Class;
        if (cls is not (OpCode.Jmp or OpCode.Jmp32))
        {
            return Flow.Straight;
        }
        int jop = OpCode.OpOf(op);
        if (op == (OpCode.Jmp | OpCode.Ja) || op == (OpCode.Jmp32 | OpCode.Ja))
        {
            return Flow.Jump;
        }
        if (op == (OpCode.Jmp | OpCode.Exit))
        {
            return Flow.Exit;
        }
        if (op == (OpCode.Jmp | OpCode.Call))
        {
            return insn.Src == Pseudo.Call ? Flow.SubprogramCall : Flow.Straight;
        }
        bool comparison = jop is OpCode.Jeq or OpCode.Jgt or OpCode.Jge or OpCode.Jset or OpCode.Jne or OpCode.Jsgt
            or OpCode.Jsge or OpCode.Jlt or OpCode.Jle or OpCode.Jslt or OpCode.Jsle;
        // Anything else in the jump classes is an unknown opcode: it faults where it stands.
        return comparison ? Flow.Branch : Flow.Straight;
    }

    /// <summary>Walks the program from instruction 0.</summary>
    public static ControlFlow Of(ReadOnlySpan<Instruction> program)
    {
        int n = program.Length;
        var reached = new bool[n];
        var leader = new bool[n];
        var fallIns = new byte[n];
        bool subprogramCalls = false;
        var work = new Stack<int>();
        work.Push(0);
        leader[0] = true;
        while (work.Count > 0)
        {
            int pc = work.Pop();
            if (reached[pc])
            {
                continue;
            }
            reached[pc] = true;
            var kind = KindOf(program[pc]);
            subprogramCalls |= kind == Flow.SubprogramCall;
            int target = JumpTarget(program, pc);
            if (target >= 0 && target < n)
            {
                leader[target] = true;
                work.Push(target);
            }
            if (kind is Flow.Jump or Flow.Exit)
            {
                continue;
            }
            int next = FallThrough(program, pc);
            if (next < n && !(program[pc].Opcode == OpCode.LdImm64 && pc + 1 >= n))
            {
                // After a branch or a call the next instruction starts a block; a second fall-through into one does too.
                if (kind != Flow.Straight || ++fallIns[next] > 1)
                {
                    leader[next] = true;
                }
                work.Push(next);
            }
        }
        return new ControlFlow(reached, leader, subprogramCalls);
    }
}

/// <summary>How an instruction moves the program counter (see <see cref="ControlFlow.KindOf"/>).</summary>
internal enum Flow
{
    /// <summary>Runs on to the next instruction (or faults).</summary>
    Straight,
    /// <summary>Always jumps (JA, gotol).</summary>
    Jump,
    /// <summary>A conditional jump: the target or the next instruction.</summary>
    Branch,
    /// <summary>A bpf-to-bpf call: the target, and the next instruction when the callee exits.</summary>
    SubprogramCall,
    /// <summary>Returns from the frame.</summary>
    Exit,
}
