using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Jit;

/// <summary>
/// The bookkeeping compiled code calls where the interpreter does it inline: the run's start, its end and a
/// bpf-to-bpf call's new frame. Kept out of the emitted IL so that both engines share one version of it.
/// </summary>
internal static class JitSupport
{
    /// <summary>What <c>Interpreter.Execute</c> does before its first instruction; returns the budget.</summary>
    public static long Start(ref RunContext ctx, int length)
    {
        ctx.Memory.ClearFrame(0);
        ctx.MaxFrames = 1;
        ctx.ProgramLength = length;
        return ctx.InstructionBudget;
    }

    /// <summary>An exit from frame 0: the run's count of executed instructions.</summary>
    public static void Finish(ref RunContext ctx, long remaining) => ctx.InstructionsExecuted = ctx.InstructionBudget - remaining;

    /// <summary>A callee's frame at <paramref name="depth"/> (already counted): cleared and recorded; returns its R10.</summary>
    public static ulong EnterFrame(ref RunContext ctx, int depth)
    {
        if (depth + 1 > ctx.MaxFrames)
        {
            ctx.MaxFrames = depth + 1;
        }
        ctx.Memory.ClearFrame(depth);
        return AddressSpace.FramePointer(depth);
    }

    /// <summary>The helper table of the run (the interpreter reads it at each call, so does compiled code).</summary>
    public static FunctionTable? Helpers(ref RunContext ctx) => ctx.Helpers;

    /// <summary>The kfunc table of the run.</summary>
    public static FunctionTable? Kfuncs(ref RunContext ctx) => ctx.Kfuncs;
}
