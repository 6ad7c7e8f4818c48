using BpfSim.Core.Bpf;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Hosting;

/// <summary>Builds a <see cref="BpfSystem"/> per simulation with every added subsystem's struct_ops types registered.</summary>
public sealed class BpfSimFactory(IEnumerable<IStructOpsTypeProvider> providers)
{
    private readonly IReadOnlyList<IStructOpsTypeProvider> _providers = providers.ToList();

    public BpfSystem Create(BpfSystemOptions? options = null, Simulator? simulator = null)
    {
        var bpf = new BpfSystem(options, simulator);
        foreach (var provider in _providers)
        {
            bpf.RegisterStructOpsType(provider.Create(bpf));
        }
        return bpf;
    }
}
