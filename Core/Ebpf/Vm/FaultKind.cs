namespace BpfSim.Core.Ebpf.Vm;

/// <summary>Why a program run stopped with a <see cref="BpfFault"/>.</summary>
public enum FaultKind
{
    /// <summary>A load or store outside every mapped region, or past the end of one.</summary>
    InvalidMemoryAccess,

    /// <summary>A store to memory the program may only read, or to a member a write filter does not list.</summary>
    WriteNotAllowed,

    /// <summary>An opcode the instruction set does not define, or one with reserved fields set.</summary>
    InvalidInstruction,

    /// <summary>A jump or fall-through to outside the program.</summary>
    JumpOutOfRange,

    /// <summary>A call to a helper or kfunc the tables do not hold.</summary>
    UnknownFunction,

    /// <summary>A bpf-to-bpf call past <see cref="Memory.AddressSpace.MaxCallFrames"/> frames.</summary>
    CallStackTooDeep,

    /// <summary>The run executed more instructions than its budget.</summary>
    InstructionBudgetExhausted,

    /// <summary>A helper or kfunc refused its arguments.</summary>
    Helper,
}
