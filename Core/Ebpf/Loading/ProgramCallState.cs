namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// What a helper needs to know about the call it serves (the <c>RunContext.CallerState</c> of every run of an
/// object): the object (its maps) and the program, and what the subsystem's trampoline put there for this call (the
/// socket's identity, say). One per object: its programs never run nested.
/// </summary>
public sealed class ProgramCallState(LoadedObject owner)
{
    public LoadedObject Object { get; } = owner;

    /// <summary>The program running now.</summary>
    public BytecodeProgram? Program { get; set; }

    /// <summary>The kernel object the call is about, as the subsystem names it (e.g. a socket id for sk_storage).</summary>
    public long Owner { get; set; }

    /// <summary>The subsystem's own per-call state.</summary>
    public object? Subsystem { get; set; }
}
