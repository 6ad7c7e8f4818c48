using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>What a load-time check tracks in a register or an 8-byte stack slot; <c>default</c> is "unknown".</summary>
internal interface IPathValue<T> where T : struct, IPathValue<T>, IEquatable<T>
{
    /// <summary>R10 of a fresh frame: a pointer to the top of the stack.</summary>
    static abstract T FramePointer { get; }

    /// <summary>A pointer into the current frame, which a callee must not take for its own frame's.</summary>
    bool IsStack { get; }

    /// <summary>For a pointer into the frame, its offset from R10.</summary>
    int StackOffset { get; }
}

/// <summary>The registers and spilled stack slots a check knows at one instruction, over every path that reaches it.</summary>
internal sealed class PathState<T> where T : struct, IPathValue<T>, IEquatable<T>
{
    public readonly T[] Regs = new T[11];
    public readonly SortedDictionary<int, T> Slots = [];

    /// <summary>
    /// Every path into this state took an edge the verifier might know never to be taken (a comparison of values this
    /// walk does not fully know), so what it finds here may be on a path the verifier does not walk. Where paths meet,
    /// one path the verifier surely walks is enough to clear it.
    /// </summary>
    public bool Uncertain;

    public PathState<T> Clone()
    {
        var s = new PathState<T> { Uncertain = Uncertain };
        Regs.CopyTo(s.Regs, 0);
        foreach (var (k, v) in Slots)
        {
            s.Slots[k] = v;
        }
        return s;
    }

    /// <summary>
    /// A store of <paramref name="size"/> bytes at frame offset <paramref name="at"/>: what was spilled over those bytes is
    /// gone; a whole 8-byte register store (<paramref name="spill"/>) puts what that register holds there.
    /// </summary>
    public void StoreToStack(int at, int size, T? spill)
    {
        foreach (int slot in Slots.Keys.Where(k => k < at + size && k + 8 > at).ToList())
        {
            Slots.Remove(slot);
        }
        if (spill is { } v && !v.Equals(default))
        {
            Slots[at] = v;
        }
    }

    /// <summary>A call may write the stack through a pointer to it in R1–R5: what was spilled at or above it is forgotten.</summary>
    public void ForgetSlotsPassedToCall()
    {
        for (int a = 1; a <= 5; a++)
        {
            if (Regs[a].IsStack)
            {
                int from = Regs[a].StackOffset;
                foreach (int slot in Slots.Keys.Where(k => k + 8 > from).ToList())
                {
                    Slots.Remove(slot);
                }
            }
        }
    }

    /// <summary>Merges <paramref name="other"/> in: what the two disagree on becomes unknown. True when this state changed.</summary>
    public bool Merge(PathState<T> other)
    {
        bool changed = false;
        if (Uncertain && !other.Uncertain)
        {
            Uncertain = false;
            changed = true;
        }
        for (int r = 0; r < Regs.Length; r++)
        {
            if (!Regs[r].Equals(other.Regs[r]) && !Regs[r].Equals(default))
            {
                Regs[r] = default;
                changed = true;
            }
        }
        foreach (int slot in Slots.Keys.ToList())
        {
            if (!other.Slots.TryGetValue(slot, out var v) || !v.Equals(Slots[slot]))
            {
                Slots.Remove(slot);
                changed = true;
            }
        }
        return changed;
    }
}

/// <summary>
/// The walk the load-time checks share: every instruction reachable from the entry, in index order, with the state of
/// every path into it merged, until nothing changes. A bpf-to-bpf call enters its callee with the caller's R1–R5 (the
/// verifier checks a static subprogram with its caller's registers) and a frame of its own; the caller goes on at the
/// next instruction with what the step left (the step clears R0–R5 for a call).
/// </summary>
internal static class PathWalk
{
    /// <summary>Applies instruction <paramref name="i"/> to <paramref name="state"/> (a copy), or refuses it.</summary>
    public delegate BpfResult Step<T>(int i, PathState<T> state) where T : struct, IPathValue<T>, IEquatable<T>;

    /// <summary>
    /// What a conditional jump <paramref name="i"/> teaches on one of its edges (<paramref name="taken"/>: the jump's), or
    /// false when the verifier would not follow that edge at all (its outcome is known).
    /// </summary>
    public delegate bool Branch<T>(int i, bool taken, PathState<T> state) where T : struct, IPathValue<T>, IEquatable<T>;

    public static BpfResult Run<T>(Instruction[] insns, bool[] second, PathState<T> entry, Step<T> step, Branch<T>? branch = null)
        where T : struct, IPathValue<T>, IEquatable<T>
    {
        var states = new PathState<T>?[insns.Length];
        var work = new SortedSet<int>();
        entry.Regs[10] = T.FramePointer;
        states[0] = entry;
        work.Add(0);
        while (work.Count > 0)
        {
            int i = work.Min;
            work.Remove(i);
            var before = states[i]!;
            var state = before.Clone();
            var insn = insns[i];
            var r = step(i, state);
            if (!r.IsOk)
            {
                return r;
            }
            bool localCall = insn.Opcode == (OpCode.Jmp | OpCode.Call) && insn.Src == Pseudo.Call;
            int op = insn.Opcode & 0xf0;
            bool conditional = branch is not null && insn.Class is OpCode.Jmp or OpCode.Jmp32 && op is not (OpCode.Ja or OpCode.Call or OpCode.Exit);
            bool firstEdge = true;
            foreach (int next in Successors(insns, second, i))
            {
                var flowing = state;
                if (conditional)
                {
                    // Successors gives the jump's edge first, then the fall-through.
                    flowing = state.Clone();
                    bool follow = branch!(i, firstEdge, flowing);
                    firstEdge = false;
                    if (!follow)
                    {
                        continue;
                    }
                }
                else if (localCall && next == i + 1 + insn.Imm)
                {
                    flowing = new PathState<T> { Uncertain = before.Uncertain };
                    for (int a = 1; a <= 5; a++)
                    {
                        flowing.Regs[a] = before.Regs[a].IsStack ? default : before.Regs[a];
                    }
                    flowing.Regs[10] = T.FramePointer;
                }
                if (states[next] is null)
                {
                    states[next] = flowing.Clone();
                    work.Add(next);
                }
                else if (states[next]!.Merge(flowing))
                {
                    work.Add(next);
                }
            }
        }
        return BpfResult.Ok;
    }

    private static IEnumerable<int> Successors(Instruction[] insns, bool[] second, int i)
    {
        var insn = insns[i];
        if (insn.Opcode == OpCode.LdImm64)
        {
            yield return i + 2;
            yield break;
        }
        if (insn.Class is not (OpCode.Jmp or OpCode.Jmp32))
        {
            if (i + 1 < insns.Length)
            {
                yield return i + 1;
            }
            yield break;
        }
        int op = insn.Opcode & 0xf0;
        if (op == OpCode.Exit && insn.Class == OpCode.Jmp)
        {
            yield break;
        }
        if (op == OpCode.Call)
        {
            if (insn.Src == Pseudo.Call)
            {
                yield return i + 1 + insn.Imm;
            }
            if (i + 1 < insns.Length)
            {
                yield return i + 1;
            }
            yield break;
        }
        int target = i + 1 + (insn.Class == OpCode.Jmp32 && op == OpCode.Ja ? insn.Imm : insn.Offset);
        if ((uint)target < (uint)insns.Length && !second[target])
        {
            yield return target;
        }
        if (op != OpCode.Ja && i + 1 < insns.Length)
        {
            yield return i + 1;
        }
    }
}
