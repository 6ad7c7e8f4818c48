using System.Reflection;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Btf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BpfSim.Core.Hosting;

/// <summary>
/// Composition: <c>services.AddBpfSim().AddTcp().AddBuiltinPrograms()</c>. Subsystems add their struct_ops types as
/// <see cref="IStructOpsTypeProvider"/>s; program assemblies add consumers to the <see cref="ConsumerCatalog"/>.
/// </summary>
public static class BpfSimServiceCollectionExtensions
{
    /// <summary>Adds the runtime: a <see cref="BpfSimFactory"/> and the <see cref="ConsumerCatalog"/>.</summary>
    public static IServiceCollection AddBpfSim(this IServiceCollection services)
    {
        services.TryAddSingleton<BpfSimFactory>();
        services.TryAddSingleton<KernelBtfProvider>();
        Catalog(services);
        return services;
    }

    /// <summary>Adds every [StructOps] consumer class of <paramref name="assembly"/>.</summary>
    public static IServiceCollection AddProgramsFrom(this IServiceCollection services, Assembly assembly)
    {
        Catalog(services).AddFrom(assembly, assembly.GetName().Name ?? "assembly");
        return services;
    }

    /// <summary>Adds the consumers of an assembly file, loaded in its own load context.</summary>
    /// <exception cref="ConsumerLoadException">The file cannot be loaded or holds no consumer.</exception>
    public static IServiceCollection AddProgramsFrom(this IServiceCollection services, string assemblyPath)
    {
        ConsumerAssemblyLoader.LoadInto(Catalog(services), assemblyPath);
        return services;
    }

    /// <summary>
    /// Adds the struct_ops variables of every BPF object (<c>*.bpf.o</c>) in <paramref name="folder"/> that
    /// <paramref name="include"/> accepts, in name order; a missing folder adds nothing.
    /// </summary>
    /// <exception cref="ConsumerLoadException">An object cannot be read.</exception>
    public static IServiceCollection AddObjectsFrom(this IServiceCollection services, string folder, Func<string, bool>? include = null)
    {
        if (Directory.Exists(folder))
        {
            foreach (var path in Directory.GetFiles(folder, "*.bpf.o").Order(StringComparer.Ordinal))
            {
                if (include?.Invoke(Path.GetFileName(path)) ?? true)
                {
                    ConsumerObjectLoader.LoadInto(Catalog(services), path);
                }
            }
        }
        return services;
    }

    /// <summary>Adds a subsystem's struct_ops type.</summary>
    public static IServiceCollection AddStructOpsType<TProvider>(this IServiceCollection services)
        where TProvider : class, IStructOpsTypeProvider
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStructOpsTypeProvider, TProvider>());
        return services;
    }

    /// <summary>Adds a subsystem's part of the kernel BTF (its types as BPF programs see them).</summary>
    public static IServiceCollection AddKernelBtfTypes<TContributor>(this IServiceCollection services)
        where TContributor : class, IKernelBtfContributor
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKernelBtfContributor, TContributor>());
        return services;
    }

    private static ConsumerCatalog Catalog(IServiceCollection services)
    {
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(ConsumerCatalog))?.ImplementationInstance as ConsumerCatalog;
        if (existing is not null)
        {
            return existing;
        }
        var catalog = new ConsumerCatalog();
        services.AddSingleton(catalog);
        return catalog;
    }
}
