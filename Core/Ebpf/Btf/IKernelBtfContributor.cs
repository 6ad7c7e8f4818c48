namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// A subsystem's part of bpfsim's kernel BTF: the types its simulated structs present to BPF programs. Core never
/// names a subsystem; each one registers a contributor (<c>services.AddKernelBtfTypes&lt;T&gt;()</c>) and
/// <see cref="KernelBtf.Build"/> runs them in registration order.
/// </summary>
public interface IKernelBtfContributor
{
    /// <summary>Adds the subsystem's types; shared types (base types, <c>struct sock</c>) are get-or-add by name.</summary>
    void AddTypes(KernelBtfBuilder builder);
}
