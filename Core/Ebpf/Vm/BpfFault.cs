using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Vm;

/// <summary>
/// A program run went wrong: an access the kernel's verifier would have rejected, or a page fault the kernel would
/// have oopsed on. It ends the run (the program-level guard ejects the consumer); the simulation goes on. The
/// message is the kernel's where it has words for the case (e.g. <c>invalid access to map value, value_size=8
/// off=8 size=4</c>).
/// </summary>
public sealed class BpfFault : Exception
{
    /// <param name="kind">What went wrong.</param>
    /// <param name="programCounter">The index of the faulting instruction (for a helper, of its call).</param>
    /// <param name="message">The kernel's words.</param>
    /// <param name="address">The address accessed, if any.</param>
    /// <param name="size">The bytes accessed, if any.</param>
    /// <param name="access">Read, Write or both (atomics), or None when no memory was involved.</param>
    public BpfFault(FaultKind kind, int programCounter, string message, ulong address = 0, int size = 0,
        MemoryAccess access = MemoryAccess.None)
        : base(message)
    {
        Kind = kind;
        ProgramCounter = programCounter;
        Address = address;
        Size = size;
        Access = access;
    }

    /// <summary>What went wrong.</summary>
    public FaultKind Kind { get; }

    /// <summary>The index of the faulting instruction in the program (for a helper's fault, of its call).</summary>
    public int ProgramCounter { get; }

    /// <summary>The address of a memory fault, else 0.</summary>
    public ulong Address { get; }

    /// <summary>The size in bytes of a memory fault's access, else 0.</summary>
    public int Size { get; }

    /// <summary>The kind of a memory fault's access, else None.</summary>
    public MemoryAccess Access { get; }

    /// <summary>The instructions executed before the fault, when the interpreter knows it (else 0).</summary>
    public long InstructionsExecuted { get; internal set; }
}
