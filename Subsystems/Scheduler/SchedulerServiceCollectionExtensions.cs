using BpfSim.Core.Hosting;
using BpfSim.Scheduler.Btf;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Scheduler;

/// <summary>
/// <c>services.AddScheduler()</c>: the kernel BTF gets the scheduler's types (<see cref="SchedKernelTypes"/>:
/// task_struct, cpumask, sched_ext_ops and the scx enums), and every new BpfSystem the <c>sched_ext_ops</c> struct_ops
/// type (registered here by the Ext subsystem's provider).
/// </summary>
public static class SchedulerServiceCollectionExtensions
{
    /// <summary>Adds the scheduler subsystem.</summary>
    public static IServiceCollection AddScheduler(this IServiceCollection services) =>
        services.AddKernelBtfTypes<SchedKernelTypes>();
}
