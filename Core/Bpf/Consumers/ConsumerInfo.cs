using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// A consumer: what <c>bpfsim list</c> shows and what a scenario names. <see cref="Name"/> is the catalog id;
/// <see cref="Algorithm"/> the name it registers under (the same unless the attribute sets an Id). A C# consumer has
/// its <see cref="ClrType"/>; a struct_ops variable of a BPF object has its <see cref="Object"/> instead, and its name
/// is the variable's.
/// </summary>
public sealed record ConsumerInfo(string Name, string StructOpsType, Type? ClrType, string Source, string Description, bool Link,
    string Algorithm)
{
    /// <summary>The BPF object whose struct_ops variable <see cref="Name"/> this consumer is; null for a C# consumer.</summary>
    public ObjectSpec? Object { get; init; }

    /// <summary>
    /// What the consumer plugs into. An XDP consumer's <see cref="StructOpsType"/> is <c>xdp</c> (what
    /// <c>bpfsim list</c> prints in the type column).
    /// </summary>
    public ConsumerKind Kind { get; init; } = ConsumerKind.StructOps;
}
