using System.Buffers.Binary;
using System.Diagnostics;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// A loaded bytecode program, relocated and linked, ready for its trampoline: the struct_ops member call of a
/// subsystem writes the member's arguments into the context array (what <c>BPF_PROG</c> reads as <c>ctx[0..n]</c>)
/// and runs the interpreter with R1 pointing at it, as the kernel's struct_ops trampoline does.
/// </summary>
public sealed class BytecodeProgram
{
    /// <summary>The most arguments a struct_ops member passes (MAX_BPF_FUNC_ARGS is 12; tcp_congestion_ops uses 4).</summary>
    public const int MaxArgs = 12;

    private readonly Instruction[] _instructions;
    private readonly LoadedObject _object;
    private CompiledProgram? _compiled;

    internal BytecodeProgram(LoadedObject owner, string name, string member, Instruction[] instructions, FunctionTable helpers,
        FunctionTable kfuncs)
    {
        _object = owner;
        Name = name;
        Member = member;
        _instructions = instructions;
        Helpers = helpers;
        Kfuncs = kfuncs;
    }

    /// <summary>The program's function name in the object.</summary>
    public string Name { get; }

    /// <summary>The struct_ops member it implements.</summary>
    public string Member { get; }

    /// <summary>The instructions after relocation and linking (what <c>bpftool prog dump xlated</c> shows).</summary>
    public ReadOnlySpan<Instruction> Instructions => _instructions;

    /// <summary>The object's address space (globals, maps, and the regions a trampoline binds per call).</summary>
    public AddressSpace Memory => _object.Memory;

    /// <summary>The helpers this program may call, by id.</summary>
    public FunctionTable Helpers { get; }

    /// <summary>The kfuncs it calls, by the index the loader gave each.</summary>
    public FunctionTable Kfuncs { get; }

    /// <summary>
    /// Whether runs use compiled code: <see cref="Bpf.BpfSystemOptions.Jit"/> is on and the program is at most
    /// <see cref="CompiledProgram.MaxInstructions"/> long (compiled on the first run).
    /// </summary>
    public bool Jited => _object.System.Options.Jit && CompiledProgram.Compiles(_instructions.Length);

    /// <summary>The object it came from.</summary>
    public LoadedObject Object => _object;

    public long RunCount { get; private set; }

    public long InstructionsExecuted { get; private set; }

    /// <summary>Wall-clock time spent running, in Stopwatch ticks (only counted while the system's stats are on).</summary>
    public long RunTicks { get; private set; }

    /// <summary>A context for one run: bind the call's regions to it, then <see cref="Run"/>.</summary>
    public RunContext NewContext()
    {
        return new(_object.Acquire(), Helpers, Kfuncs) { InstructionBudget = _object.InstructionBudget, CallerState = _object.CallState };
    }

    /// <summary>
    /// Runs an XDP program on <paramref name="packet"/>: R1 is the xdp_md context, whose data/data_end/data_meta loads
    /// give pointers into the packet; what the program leaves (moved data or data_end, a redirect target) is written
    /// back. Returns the action; a fault is XDP_ABORTED (the kernel's verifier would have refused the program), counted
    /// in <see cref="Faults"/> with the last one kept. Enters CPU 0 (the rx queue's) if no CPU is current.
    /// </summary>
    public int RunPacket(ref Bpf.Net.PacketContext packet)
    {
        var (xdpMd, region) = _object.PacketRegions();
        var context = NewContext();
        context.BindPacket(xdpMd, region, packet.Frame, packet.DataMeta, packet.Data, packet.DataEnd, packet.IngressIfindex,
            packet.RxQueueIndex, packet.EgressIfindex);
        var state = _object.CallState;
        var (previousProgram, previousOwner) = (state.Program, state.Owner);
        (state.Program, state.Owner) = (this, 0);
        var system = _object.System;
        bool enter = system.Cpus.Current < 0;
        int cpu = (int)Math.Min(packet.RxQueueIndex, (uint)(system.Cpus.Count - 1));
        var scope = enter ? system.EnterProgram(cpu) : default;
        long start = system.StatsEnabled ? Stopwatch.GetTimestamp() : 0;
        Span<ulong> r1 = [AddressSpace.AddressOf(xdpMd)];
        int action;
        try
        {
            action = (int)Execute(ref context, r1);
            packet.DataMeta = context.PacketDataMeta;
            packet.Data = context.PacketData;
            packet.DataEnd = context.PacketDataEnd;
            packet.RedirectIfindex = context.RedirectIfindex;
        }
        catch (BpfFault fault)
        {
            Faults++;
            LastFault = fault;
            action = (int)Bpf.Net.XdpAction.Aborted;
        }
        finally
        {
            if (enter)
            {
                scope.Dispose();
            }
            (state.Program, state.Owner) = (previousProgram, previousOwner);
            RunCount++;
            InstructionsExecuted += context.InstructionsExecuted;
            if (start != 0)
            {
                RunTicks += Stopwatch.GetTimestamp() - start;
            }
        }
        return action;
    }

    private ulong Execute(ref RunContext context, scoped ReadOnlySpan<ulong> r1)
        => Jited
            ? (_compiled ??= CompiledProgram.Compile(_instructions, Name)).Run(ref context, r1)
            : Interpreter.Run(_instructions, 0, ref context, r1);

    /// <summary>Runs of <see cref="RunPacket"/> that faulted (each returned XDP_ABORTED).</summary>
    public long Faults { get; private set; }

    /// <summary>The last fault of <see cref="RunPacket"/>, or null.</summary>
    public BpfFault? LastFault { get; private set; }

    /// <summary>Runs the program with <paramref name="args"/> as ctx[0..]; returns R0.</summary>
    /// <param name="owner">The kernel object the call is about, for helpers (<see cref="ProgramCallState.Owner"/>).</param>
    /// <exception cref="BpfFault">The program faulted (its consumer is then ejected by the subsystem's guard).</exception>
    public ulong Run(ref RunContext context, scoped ReadOnlySpan<ulong> args, long owner = 0)
    {
        var state = _object.CallState;
        var (previousProgram, previousOwner) = (state.Program, state.Owner);
        (state.Program, state.Owner) = (this, owner);
        var ctx = _object.ContextBytesOf(context.Memory);
        for (int i = 0; i < args.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(ctx.AsSpan(i * 8), args[i]);
        }
        Span<ulong> r1 = [AddressSpace.AddressOf(_object.ContextRegion)];
        long start = _object.System.StatsEnabled ? Stopwatch.GetTimestamp() : 0;
        try
        {
            return Execute(ref context, r1);
        }
        finally
        {
            (state.Program, state.Owner) = (previousProgram, previousOwner);
            RunCount++;
            InstructionsExecuted += context.InstructionsExecuted;
            if (start != 0)
            {
                RunTicks += Stopwatch.GetTimestamp() - start;
            }
        }
    }
}
