namespace BpfSim.Core.Bpf.Consumers;

/// <summary>Binds a method to a function member of the consumer's struct_ops type.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class StructOpsMemberAttribute(string member) : Attribute
{
    /// <summary>The member name, e.g. <c>ssthresh</c>.</summary>
    public string Member { get; } = member;
}
