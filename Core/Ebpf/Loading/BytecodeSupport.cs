using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// What a struct_ops type offers bytecode programs, provided by its subsystem (Core names no subsystem): the helpers
/// and kfuncs a member's program may call (the kernel's get_func_proto and kfunc id sets), which context fields it may
/// write (btf_struct_access), and the trampoline that turns a member call into a program run.
/// </summary>
public abstract class BytecodeSupport
{
    /// <summary>The helper <paramref name="id"/> for a program of <paramref name="member"/>, or null with the kernel's refusal.</summary>
    public abstract BpfFunction? Helper(int id, StructOpsMember member, out string refusal);

    /// <summary>The kfunc <paramref name="name"/> for a program of <paramref name="member"/>, or null with the kernel's refusal.</summary>
    /// <param name="exists">False when the kernel has no such function at all (a weak extern then resolves to 0).</param>
    public abstract BpfFunction? Kfunc(string name, StructOpsMember member, out bool exists, out string refusal);

    /// <summary>Whether the kfunc <paramref name="name"/> is KF_SLEEPABLE: the verifier lets only sleepable programs call it.</summary>
    public virtual bool KfuncSleepable(string name) => false;

    /// <summary>
    /// Where a program of <paramref name="member"/> may write through its argument <paramref name="argument"/> (a
    /// pointer to a kernel struct): null when the argument is read-only or not a pointer.
    /// </summary>
    public abstract WriteFilter? ArgumentWrites(StructOpsMember member, int argument);

    /// <summary>
    /// What the subsystem's usual user-space loader does to an object between open and load (a libbpf skeleton's
    /// steps, e.g. sched_ext's UEI_SET_SIZE sizing the exit-dump buffer): <paramref name="spec"/> as it should be
    /// loaded. The default changes nothing.
    /// </summary>
    public virtual Spec.ObjectSpec PrepareObject(Spec.ObjectSpec spec) => spec;

    /// <summary>
    /// The body <see cref="BpfSystem.ProgLoad"/> gets for <paramref name="program"/>: a delegate of the member's
    /// signature; null for a member a BPF program cannot implement, which the load then refuses as the kernel does
    /// (ENOTSUPP, "attach to unsupported member").
    /// </summary>
    public abstract Delegate? Trampoline(StructOpsMember member, BytecodeProgram program);
}
