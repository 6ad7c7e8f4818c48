using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Hosting;

/// <summary>
/// The kernel BTF of the composed subsystems (every <see cref="IKernelBtfContributor"/> added with
/// <c>AddKernelBtfTypes</c>), built once on first use: the loader's CO-RE target and what <c>bpfsim btf dump</c> prints.
/// </summary>
public sealed class KernelBtfProvider(IEnumerable<IKernelBtfContributor> contributors)
{
    private readonly Lazy<BtfSpec> _spec = new(() => KernelBtf.Build(contributors));

    /// <summary>The kernel BTF.</summary>
    /// <exception cref="BtfException">Contributors disagree about a type.</exception>
    public BtfSpec Spec => _spec.Value;
}
