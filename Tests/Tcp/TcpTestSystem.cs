using BpfSim.Core.Simulation;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Programs;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Tests.Tcp;

/// <summary>A BpfSystem composed as the CLI composes it: runtime, TCP, built-in programs.</summary>
internal sealed class TcpTestSystem
{
    /// <param name="hz">The kernel's CONFIG_HZ (<see cref="BpfSystemOptions.Hz"/>).</param>
    public TcpTestSystem(uint hz = Jiffies.DefaultHz)
    {
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        Catalog = services.GetRequiredService<ConsumerCatalog>();
        Bpf = services.GetRequiredService<BpfSimFactory>().Create(new BpfSystemOptions { Hz = hz });
        Type = (TcpCongestionOpsType)Bpf.FindStructOpsType(TcpCongestionOpsType.TypeName)!;
    }

    public BpfSystem Bpf { get; }
    public ConsumerCatalog Catalog { get; }
    public TcpCongestionOpsType Type { get; }
    public TcpCongestionRegistry Registry => Type.Registry;

    public LoadedStructOps Load(object consumer)
    {
        var r = StructOpsLoader.Load(Bpf, consumer, out var loaded);
        Assert.That(r.IsOk, r.Reason);
        return loaded!;
    }

    public LoadedStructOps Register(object consumer)
    {
        var loaded = Load(consumer);
        var r = loaded.Register();
        Assert.That(r.IsOk, r.Reason);
        return loaded;
    }

    public static TcpSock Socket(uint cwnd = TcpSock.InitCwnd, uint ssthresh = TcpSock.InfiniteSsthresh) => new()
    {
        SndCwnd = cwnd, SndSsthresh = ssthresh, SndCwndClamp = uint.MaxValue, MssCache = 1448, IsCwndLimited = true, MaxPacketsOut = cwnd,
        SkMaxPacingRate = ulong.MaxValue,
    };
}
