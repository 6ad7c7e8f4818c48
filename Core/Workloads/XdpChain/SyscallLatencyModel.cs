using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// How long each user-space call takes in simulated time: a median per <see cref="SyscallKind"/> times a log-normal
/// jitter factor drawn from the actor's own seeded stream. Waits the kernel itself makes (synchronize_rcu in an mprog
/// commit) are not in here: the simulated kernel takes them inside the call.
/// </summary>
/// <remarks>
/// Medians, rounded from published measurements and ordinary experience on a 2020s x86 server (docs/multi-prog.md
/// §latency): a small program's BPF_PROG_LOAD with verification 150 µs; libxdp's dispatcher (ten global functions
/// with BTF, verified function by function) 1.2 ms; an EXT program verified against its target's BTF 250 µs; a
/// freplace link (trampoline update with text_poke_bp) 40 µs; map calls 1.5–3 µs; a netlink RTM_SETLINK with
/// IFLA_XDP 30 µs (rtnl_lock, the driver's ndo_bpf swap); a tcx attach/detach 8 µs plus the kernel's wait; bpffs
/// operations 5 µs; close 1 µs.
/// </remarks>
public sealed record SyscallLatencyModel
{
    /// <summary>Median latency per kind, in nanoseconds, indexed by <see cref="SyscallKind"/>.</summary>
    public IReadOnlyList<long> MedianNs { get; init; } = s_defaults;

    /// <summary>Standard deviation of the natural log of the jitter factor (0 = no jitter).</summary>
    public double Sigma { get; init; } = 0.25;

    private static readonly long[] s_defaults = Defaults();

    private static long[] Defaults()
    {
        var ns = new long[Enum.GetValues<SyscallKind>().Length];
        ns[(int)SyscallKind.ProgLoad] = 150_000;
        ns[(int)SyscallKind.ExtProgLoad] = 250_000;
        ns[(int)SyscallKind.DispatcherLoad] = 1_200_000;
        ns[(int)SyscallKind.FreplaceLink] = 40_000;
        ns[(int)SyscallKind.MapCreate] = 8_000;
        ns[(int)SyscallKind.MapLookup] = 1_500;
        ns[(int)SyscallKind.MapUpdate] = 2_000;
        ns[(int)SyscallKind.MapDelete] = 2_000;
        ns[(int)SyscallKind.MapGetNextKey] = 1_500;
        ns[(int)SyscallKind.ProgInfo] = 2_000;
        ns[(int)SyscallKind.XdpAttach] = 30_000;
        ns[(int)SyscallKind.XdpQuery] = 10_000;
        ns[(int)SyscallKind.ProgQuery] = 3_000;
        ns[(int)SyscallKind.ProgAttach] = 8_000;
        ns[(int)SyscallKind.BpffsOp] = 5_000;
        ns[(int)SyscallKind.Close] = 1_000;
        ns[(int)SyscallKind.Sleep] = 0;
        return ns;
    }

    /// <summary>One call's latency.</summary>
    public SimTime Sample(SyscallKind kind, SimRandom random)
    {
        long median = MedianNs[(int)kind];
        if (median == 0 || Sigma == 0)
        {
            return new SimTime(median);
        }
        // Box-Muller from two uniforms of the actor's stream: deterministic per seed and actor.
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        double normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return new SimTime(Math.Max(1, (long)(median * Math.Exp(Sigma * normal))));
    }

    /// <exception cref="ArgumentException">A median is missing or negative, or <see cref="Sigma"/> is negative.</exception>
    public void Validate()
    {
        if (MedianNs.Count != Enum.GetValues<SyscallKind>().Length || MedianNs.Any(m => m < 0))
        {
            throw new ArgumentException($"the latency model needs a non-negative median for each of the {Enum.GetValues<SyscallKind>().Length} call kinds");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(Sigma);
    }
}
