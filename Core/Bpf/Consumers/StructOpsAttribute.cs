namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Marks a class as a struct_ops consumer: an implementation of <paramref name="type"/> whose methods marked (on
/// themselves or on the base method they override) with <see cref="StructOpsMemberAttribute"/> become programs,
/// as the functions of a C <c>SEC(".struct_ops")</c> variable do.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class StructOpsAttribute(string type) : Attribute
{
    /// <summary>The struct_ops type, e.g. <c>tcp_congestion_ops</c>.</summary>
    public string Type { get; } = type;

    /// <summary>The consumer's name: the map name and, where the type has one, its <c>name</c> member.</summary>
    public required string Name { get; init; }

    /// <summary>The type's <c>flags</c> member, where it has one (e.g. TCP_CONG_NEEDS_ECN = 2).</summary>
    public uint Flags { get; init; }

    /// <summary>Register through a link (<c>SEC(".struct_ops.link")</c>, BPF_F_LINK) instead of by map update.</summary>
    public bool Link { get; init; }

    /// <summary>
    /// The consumer's own name in the catalog and in scenarios when it differs from <see cref="Name"/> — two
    /// versions of one algorithm (same <c>name</c>, as a link update requires) need two ids.
    /// </summary>
    public string? Id { get; init; }

    /// <summary>One line for <c>bpfsim list</c>.</summary>
    public string Description { get; init; } = "";
}
