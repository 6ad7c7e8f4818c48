namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Marks a public sealed class as an XDP program written in C#: the counterpart of a <c>SEC("xdp")</c> function of a
/// BPF object. The class has a public method <c>int Run(ref PacketContext ctx)</c> (a
/// <see cref="Net.PacketProgramFunc"/>), which returns an <see cref="Net.XdpAction"/>, and a public constructor that
/// takes nothing or an <see cref="XdpConsumerContext"/> (through which it creates its maps). Its options are members
/// marked with <see cref="StructOpsOptionAttribute"/>, set from a scenario entry's <c>globals:</c> before it loads.
/// </summary>
/// <remarks>
/// Loaded through BPF_PROG_LOAD as a program of type XDP (<c>BPF_PROG_TYPE_XDP</c>) and called behind a
/// <see cref="ConsumerGuard"/>: a call that throws is the kernel's view of a faulting program, the packet is
/// XDP_ABORTED (counted as <c>trace_xdp_exception</c> would see it) and the program is detached.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class XdpProgramAttribute(string name) : Attribute
{
    /// <summary>The name in the catalog, in scenarios and of the loaded program (cut to the kernel's 15 characters).</summary>
    public string Name { get; } = name;

    /// <summary>One line for <c>bpfsim list</c>.</summary>
    public string Description { get; init; } = "";
}
