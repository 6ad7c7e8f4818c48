using BpfSim.Core.Bpf;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Hosting;

/// <summary>
/// Builds a <see cref="BpfSystem"/> per simulation with every added subsystem's struct_ops types registered and the
/// composed kernel BTF (built once, on first use) as the target of BPF objects' CO-RE relocations.
/// </summary>
public sealed class BpfSimFactory(IEnumerable<IStructOpsTypeProvider> providers, KernelBtfProvider? kernelBtf = null)
{
    private readonly IReadOnlyList<IStructOpsTypeProvider> _providers = providers.ToList();

    public BpfSystem Create(BpfSystemOptions? options = null, Simulator? simulator = null)
    {
        var bpf = new BpfSystem(options, simulator);
        if (kernelBtf is not null)
        {
            bpf.KernelBtfSource = () => kernelBtf.Spec;
        }
        foreach (var provider in _providers)
        {
            bpf.RegisterStructOpsType(provider.Create(bpf));
        }
        return bpf;
    }
}
