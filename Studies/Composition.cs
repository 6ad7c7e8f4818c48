using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Programs;
using BpfSim.Scheduler;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tcp;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Studies;

/// <summary>How the command composes bpfsim: the runtime, every subsystem, the built-in consumers.</summary>
public static class Composition
{
    public static ServiceProvider Build() =>
        new ServiceCollection().AddBpfSim().AddTcp().AddScheduler().AddBuiltinPrograms().BuildServiceProvider();

    /// <summary>The catalog plus the consumers of <paramref name="assemblies"/> (paths given on the command line).</summary>
    /// <exception cref="ConsumerLoadException">An assembly cannot be loaded or holds no consumer.</exception>
    public static (BpfSimFactory Factory, ConsumerCatalog Catalog) Create(IEnumerable<string> assemblies)
    {
        var services = Build();
        var catalog = services.GetRequiredService<ConsumerCatalog>();
        foreach (var path in assemblies)
        {
            ConsumerFiles.LoadInto(catalog, path);
        }
        return (services.GetRequiredService<BpfSimFactory>(), catalog);
    }

    /// <summary>
    /// A bpf(2) for commands that work on no scenario (list, structops register): every subsystem's struct_ops types,
    /// sched_ext_ops among them. That type is bound to a scheduler kernel, which a sched run builds with its own bpf(2);
    /// here a runner for an empty machine (no tasks) registers it.
    /// </summary>
    public static BpfSystem CreateSystem(BpfSimFactory factory, ConsumerCatalog catalog)
    {
        var bpf = factory.Create();
        _ = new SchedScenarioRunner(new SchedScenarioSpec(), bpf, catalog);
        return bpf;
    }
}
