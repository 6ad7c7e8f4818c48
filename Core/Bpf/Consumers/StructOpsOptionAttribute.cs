namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Marks a public field or settable property of a C# consumer as a named option a scenario's <c>globals:</c> may set
/// before the consumer loads — the C# counterpart of a BPF object's <c>const volatile</c> variable (scx_simple's
/// <c>fifo_sched</c>). Supported types: bool, the integer types, enums (by member name or number), string, double.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = true)]
public sealed class StructOpsOptionAttribute(string name) : Attribute
{
    /// <summary>The option's name in <c>globals:</c> (the BPF variable's name when the consumer is a port of an object).</summary>
    public string Name { get; } = name;

    /// <summary>One line for <c>bpfsim list</c> and error messages.</summary>
    public string Description { get; init; } = "";
}
