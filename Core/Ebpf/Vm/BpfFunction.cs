namespace BpfSim.Core.Ebpf.Vm;

/// <summary>
/// A helper or kfunc as the interpreter calls it: R1–R5 in, R0 out, with the run's context for memory access
/// (<see cref="RunContext.Load"/>, <see cref="RunContext.GetBytes"/>) and the caller's state
/// (<see cref="RunContext.CallerState"/>). Throw <see cref="BpfFault"/> to fault the program.
/// </summary>
public delegate ulong BpfFunction(ref RunContext context, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5);
