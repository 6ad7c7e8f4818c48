using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Tests.Ebpf.Jit;

/// <summary>
/// Everything observable about one run of a program, on the interpreter or as compiled code, so that the two can be
/// compared whole: R0 or the fault (kind, instruction, message, executed count, address, size, access), the run's
/// executed count and frame depth, every helper and kfunc call (call site, count so far, frame depth, arguments), the
/// map value's bytes and all eight stack frames.
/// </summary>
internal sealed record EngineRun(string Result, FaultKind? Fault, long Executed, int Frames, IReadOnlyList<string> Calls, string Value,
    string Stack)
{
    private const int MapValueSize = 64;

    private delegate ulong Engine(Instruction[] program, ref RunContext context, scoped ReadOnlySpan<ulong> args);

    /// <summary>Runs <paramref name="program"/> with R1 a 64-byte map value filled from <paramref name="seed"/>;
    /// <paramref name="compiled"/> null runs the interpreter.</summary>
    public static EngineRun Of(Instruction[] program, long budget, ulong seed, CompiledProgram? compiled)
    {
        Engine engine = compiled is null
            ? (Instruction[] p, ref RunContext c, scoped ReadOnlySpan<ulong> a) => Interpreter.Run(p, 0, ref c, a)
            : (Instruction[] p, ref RunContext c, scoped ReadOnlySpan<ulong> a) => compiled.Run(ref c, a);
        var memory = new AddressSpace();
        var bytes = new byte[MapValueSize];
        new Random((int)seed).NextBytes(bytes);
        var value = memory.Map(bytes, RegionKind.MapValue, MemoryAccess.ReadWrite, "value");
        var calls = new List<string>();
        var helpers = new FunctionTable();
        helpers.Add(1, "mix", (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f) =>
        {
            calls.Add($"mix pc {c.ProgramCounter} executed {c.InstructionsExecuted} frames {c.MaxFrames} args {a:x} {b:x} {d:x} {e:x} {f:x}");
            return (a * 31) ^ (b << 3) ^ d ^ (e >> 2) ^ f;
        });
        helpers.Add(2, "load", (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f) =>
        {
            // A helper's own access through a pointer argument: faults at the call when the pointer is bad.
            calls.Add($"load pc {c.ProgramCounter} executed {c.InstructionsExecuted} addr {a:x}");
            return c.Load(a, 8);
        });
        var kfuncs = new FunctionTable();
        kfuncs.Add(0, "k0", (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f) =>
        {
            calls.Add($"kfunc pc {c.ProgramCounter} executed {c.InstructionsExecuted} args {a:x} {b:x} {d:x} {e:x} {f:x}");
            return a + b;
        });
        var context = new RunContext(memory, helpers, kfuncs) { InstructionBudget = budget };
        string result;
        FaultKind? fault = null;
        try
        {
            result = engine(program, ref context, [AddressSpace.AddressOf(value), seed, seed >> 7, ~seed, seed * 3]).ToString("x");
        }
        catch (BpfFault e)
        {
            fault = e.Kind;
            result = $"fault {e.Kind} at {e.ProgramCounter}: {e.Message} after {e.InstructionsExecuted} addr {e.Address:x} size {e.Size} {e.Access}";
        }
        catch (Exception e)
        {
            result = $"threw {e.GetType().Name}: {e.Message}";
        }
        var frames = new System.Text.StringBuilder();
        var reader = new RunContext(memory);
        for (int d = 0; d < AddressSpace.MaxCallFrames; d++)
        {
            var frame = reader.GetBytes(AddressSpace.FramePointer(d) - AddressSpace.StackSize, AddressSpace.StackSize, MemoryAccess.Read);
            frames.Append(d).Append(':').Append(Convert.ToHexString(frame).TrimStart('0')).Append(' ');
        }
        return new EngineRun(result, fault, context.InstructionsExecuted, context.MaxFrames, calls, Convert.ToHexString(bytes), frames.ToString());
    }

    public override string ToString() =>
        $"R0 {Result}; executed {Executed}; frames {Frames}; value {Value}; stack {Stack}; calls:\n  {string.Join("\n  ", Calls)}";
}
