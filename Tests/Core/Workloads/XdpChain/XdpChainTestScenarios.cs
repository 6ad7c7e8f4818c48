using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads.XdpChain;

namespace BpfSim.Tests.Core.Workloads.XdpChain;

/// <summary>Scenario builders for the xdp-chain tests.</summary>
internal static class XdpChainTestScenarios
{
    public static SimTime Ms(double ms) => SimTime.FromNanoseconds((long)(ms * 1e6));

    public static ChainComponentSpec Component(string name, int priority, params ComponentActionSpec[] timeline) => new()
    {
        Name = name,
        Priority = priority,
        Versions = [new ComponentVersionSpec("v1", 30), new ComponentVersionSpec("v2", 40)],
        Timeline = timeline,
    };

    public static ComponentActionSpec Start(double ms, int version = 0) => new(Ms(ms), ComponentActionKind.Start, version);
    public static ComponentActionSpec Replace(double ms, int version) => new(Ms(ms), ComponentActionKind.Replace, version);
    public static ComponentActionSpec Stop(double ms) => new(Ms(ms), ComponentActionKind.Stop);

    /// <summary>A scenario of <paramref name="components"/> at 100 kpps; <paramref name="jitter"/> false makes every call's latency its median.</summary>
    public static XdpChainScenario Scenario(double durationMs, bool jitter, params ChainComponentSpec[] components) => new()
    {
        Seed = 1,
        Duration = Ms(durationMs),
        PacketRate = 100_000,
        Components = components,
        Latency = jitter ? new SyscallLatencyModel() : new SyscallLatencyModel { Sigma = 0 },
    };
}
