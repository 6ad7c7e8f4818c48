using BpfSim.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Programs;

/// <summary><c>services.AddBuiltinPrograms()</c>: the consumers shipped with bpfsim.</summary>
public static class ProgramsServiceCollectionExtensions
{
    public static IServiceCollection AddBuiltinPrograms(this IServiceCollection services) =>
        services.AddProgramsFrom(typeof(ProgramsServiceCollectionExtensions).Assembly);
}
