using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Workloads;

/// <summary>How an <see cref="XdpEntry"/>'s program is attached to its interface.</summary>
public enum XdpAttachMode
{
    /// <summary>A BPF link (BPF_LINK_CREATE, BPF_XDP): detached when the link goes.</summary>
    Link,
    /// <summary>The netlink way (dev_xdp_attach with a program fd): stays until replaced or detached.</summary>
    Prog,
}

/// <summary>An XDP program to attach to an interface (and maybe detach) during a run: a scenario's <c>xdp:</c> entry.</summary>
public sealed record XdpEntry
{
    /// <summary>The full path of the BPF object (<c>.bpf.o</c>), or for a C# program its name as the scenario gives it.</summary>
    public required string Program { get; init; }

    /// <summary>The C# XDP program (<see cref="ConsumerKind.Xdp"/>) when the entry names one; null for a BPF object.</summary>
    public ConsumerInfo? Consumer { get; init; }

    /// <summary>The XDP program's name in the object; null when it has one XDP program.</summary>
    public string? ProgramName { get; init; }

    /// <summary>The interface, <c>NODE:PORT</c>.</summary>
    public required string Interface { get; init; }

    public SimTime At { get; init; }

    public SimTime? DetachAt { get; init; }

    public XdpAttachMode Mode { get; init; } = XdpAttachMode.Link;

    /// <summary>Replaces the program an earlier entry attached to the same interface (a link update, or XDP_FLAGS_REPLACE).</summary>
    public bool Replace { get; init; }

    /// <summary><c>globals:</c> of the object, set before it loads.</summary>
    public IReadOnlyList<ConsumerGlobal> Globals { get; init; } = [];

    /// <summary>Where the entry is written (<c>file:line:column</c>); null if not from a file.</summary>
    public string? Location { get; init; }
}
