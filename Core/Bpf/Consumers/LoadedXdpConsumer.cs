using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>A C# XDP program loaded into a <see cref="BpfSystem"/>: its prog fd (not yet attached), guard and maps.</summary>
public sealed class LoadedXdpConsumer
{
    internal LoadedXdpConsumer(ConsumerInfo info, object instance, GuardedXdpProgram program, int progFd, IReadOnlyList<BpfMap> maps)
    {
        Info = info;
        Instance = instance;
        Program = program;
        ProgFd = progFd;
        Maps = maps;
    }

    /// <summary>The catalog entry it was loaded from.</summary>
    public ConsumerInfo Info { get; }

    /// <summary>The consumer object (its options set).</summary>
    public object Instance { get; }

    /// <summary>The guarded body BPF_PROG_LOAD was given.</summary>
    public GuardedXdpProgram Program { get; }

    /// <summary>The fd of the loaded XDP program, in the loader's process.</summary>
    public int ProgFd { get; }

    /// <summary>The maps its constructor created.</summary>
    public IReadOnlyList<BpfMap> Maps { get; }
}
