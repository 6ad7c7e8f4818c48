using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Hosting;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Tcp;

/// <summary>
/// <c>services.AddTcp()</c>: every new BpfSystem gets the <c>tcp_congestion_ops</c> struct_ops type, and the kernel
/// BTF gets the TCP types (<see cref="TcpKernelTypes"/>).
/// </summary>
public static class TcpServiceCollectionExtensions
{
    public static IServiceCollection AddTcp(this IServiceCollection services) =>
        services.AddStructOpsType<TcpStructOpsTypeProvider>().AddKernelBtfTypes<TcpKernelTypes>();

    private sealed class TcpStructOpsTypeProvider : IStructOpsTypeProvider
    {
        public StructOpsType Create(BpfSystem system) => new TcpCongestionOpsType(new TcpCongestionRegistry(system.Rcu));
    }
}
