using BpfSim.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Programs;

/// <summary>
/// <c>services.AddBuiltinPrograms()</c>: the consumers shipped with bpfsim — the C# ones of this assembly and the
/// clang-built objects of Programs/bpf, copied beside it as <c>bpf/*.bpf.o</c> (the -mcpu=v3 build of bpf_cubic is
/// left out: its variable has the same name as the default build's; the XDP objects, <c>xdp_*.bpf.o</c>, are no
/// struct_ops consumers: scenarios' <c>xdp:</c> entries load them).
/// </summary>
public static class ProgramsServiceCollectionExtensions
{
    public static IServiceCollection AddBuiltinPrograms(this IServiceCollection services)
    {
        var assembly = typeof(ProgramsServiceCollectionExtensions).Assembly;
        string objects = Path.Combine(Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory, "bpf");
        return services.AddProgramsFrom(assembly).AddObjectsFrom(objects, name =>
            !name.Contains(".v3.", StringComparison.Ordinal) && !name.StartsWith("xdp_", StringComparison.Ordinal));
    }
}
