using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// The multi-program experiment (docs/multi-prog.md): components start, replace and stop their programs on one
/// interface while packets arrive at a fixed rate; every packet's path is checked against the intended order.
/// </summary>
public sealed record XdpChainScenario
{
    public ulong Seed { get; init; } = 1;

    /// <summary>How long packets flow; actions scheduled later are not run.</summary>
    public SimTime Duration { get; init; } = SimTime.FromMilliseconds(100);

    /// <summary>Packets per second at the hook (evenly spaced).</summary>
    public long PacketRate { get; init; } = 1_000_000;

    public required IReadOnlyList<ChainComponentSpec> Components { get; init; }

    public SyscallLatencyModel Latency { get; init; } = new();

    public ChainCostModel Cost { get; init; } = new();

    /// <summary>libxdp takes an flock on its bpffs directory around pin reads and writes (the library does).</summary>
    public bool LibxdpFlock { get; init; } = true;

    /// <summary>Give up an action after this many retries (libxdp's MAX_RETRY is 10).</summary>
    public int MaxRetries { get; init; } = 10;

    /// <summary>Chain-call map: change the whole map (new map, atomic replace at the hook) instead of entry by entry.</summary>
    public bool ChainMapWholeReplace { get; init; }

    /// <summary>
    /// mprog: own the entry through a tcx link (BPF_LINK_CREATE with BPF_TCX_INGRESS; replace with BPF_LINK_UPDATE;
    /// stop with BPF_LINK_DETACH) instead of BPF_PROG_ATTACH / BPF_PROG_DETACH.
    /// </summary>
    public bool MprogLinks { get; init; }

    /// <summary>Violations listed in full (the rest are counted only).</summary>
    public int MaxListedViolations { get; init; } = 50;

    /// <summary>Where <c>file:line:col</c> of each component's entry is, for messages; may be empty.</summary>
    public IReadOnlyList<string> ComponentLocations { get; init; } = [];

    /// <exception cref="ArgumentException">Something is out of range or inconsistent; the message says what.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Duration.Nanoseconds, nameof(Duration));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PacketRate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PacketRate, 100_000_000L);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries);
        Latency.Validate();
        if (Components.Count == 0 || Components.Count > 10)
        {
            throw new ArgumentException("between 1 and 10 components (libxdp's dispatcher has 10 slots)");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in Components)
        {
            if (!names.Add(c.Name))
            {
                throw new ArgumentException($"two components are named '{c.Name}'");
            }
            if (c.Versions.Count == 0 || c.Versions.Count > 64)
            {
                throw new ArgumentException($"component {c.Name}: between 1 and 64 versions");
            }
            for (int v = 0; v < c.Versions.Count; v++)
            {
                string prog = c.ProgramName(v);
                if (prog.Length > 15 || !prog.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
                {
                    throw new ArgumentException($"component {c.Name}: program name '{prog}' must be at most 15 characters of [A-Za-z0-9_]");
                }
            }
            CheckTimeline(c);
        }
    }

    private static void CheckTimeline(ChainComponentSpec c)
    {
        bool running = false;
        int current = -1;
        var last = SimTime.Zero;
        foreach (var a in c.Timeline)
        {
            if (a.At < last)
            {
                throw new ArgumentException($"component {c.Name}: timeline entries must be in time order ({a.At} after {last})");
            }
            last = a.At;
            if (a.Kind != ComponentActionKind.Stop && (a.Version < 0 || a.Version >= c.Versions.Count))
            {
                throw new ArgumentException($"component {c.Name}: version {a.Version} does not exist");
            }
            switch (a.Kind)
            {
                case ComponentActionKind.Start when running:
                    throw new ArgumentException($"component {c.Name}: start at {a.At} while already started");
                case ComponentActionKind.Replace or ComponentActionKind.Stop when !running:
                    throw new ArgumentException($"component {c.Name}: {a.Kind.ToString().ToLowerInvariant()} at {a.At} while not started");
                case ComponentActionKind.Replace when a.Version == current:
                    throw new ArgumentException($"component {c.Name}: replace at {a.At} with the version already running");
            }
            running = a.Kind != ComponentActionKind.Stop;
            current = running ? a.Version : -1;
        }
    }
}
