using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// What a C# XDP program's constructor is given: the <see cref="BpfSystem"/> it is loaded into and a way to create its
/// maps through the simulated bpf(2) (BPF_MAP_CREATE), as a BPF object's loader creates the maps of its <c>.maps</c>
/// section before its programs load. The maps created here are the program's: <c>bpfsim run --dump-map NAME</c> finds
/// them by name.
/// </summary>
public sealed class XdpConsumerContext
{
    private readonly List<BpfMap> _maps = [];

    /// <summary>A context for a program loaded into <paramref name="bpf"/>.</summary>
    public XdpConsumerContext(BpfSystem bpf)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        Bpf = bpf;
    }

    /// <summary>The kernel the program is loaded into.</summary>
    public BpfSystem Bpf { get; }

    /// <summary>The maps created through <see cref="CreateMap"/>, in creation order.</summary>
    public IReadOnlyList<BpfMap> Maps => _maps;

    /// <summary>
    /// BPF_MAP_CREATE of <paramref name="spec"/> in the loader's process; the map stays open (its fd held) for the run.
    /// The program reads and writes it with <see cref="BpfMap.Lookup"/> and <see cref="BpfMap.Update"/>, as the map
    /// helpers do.
    /// </summary>
    /// <exception cref="InvalidOperationException">The kernel refused the map (the errno and its reason in the message).</exception>
    public BpfMap CreateMap(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var r = Bpf.MapCreate(spec, out int fd);
        if (!r.IsOk)
        {
            throw new InvalidOperationException($"map {spec.Name}: {r}");
        }
        Bpf.GetMap(fd, out var map).ThrowIfFailed();
        _maps.Add(map);
        return map;
    }
}
