namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// What a packet may see of one component at one instant (docs/multi-prog.md §checker): a set of allowed versions
/// and whether it must see one of them.
/// </summary>
/// <remarks>
/// A component counts as attached from the moment its start call returned until its stop call began: then exactly
/// its current version is allowed and required. While a start, replace or stop is in progress either outcome is
/// allowed: starting {new} not required, replacing {old, new} required (one of them), stopping {old} not required.
/// A stopped component allows nothing.
/// </remarks>
/// <param name="Allowed">Bit v set = version v may be seen.</param>
/// <param name="Required">The packet must see exactly one allowed version.</param>
public readonly record struct ComponentExpectation(ulong Allowed, bool Required)
{
    /// <summary>The component is not running: nothing of it may be seen.</summary>
    public static ComponentExpectation Absent => default;

    /// <summary>Attached with <paramref name="version"/>, no change in progress.</summary>
    public static ComponentExpectation Attached(int version) => new(1UL << version, true);

    /// <summary>A start of <paramref name="version"/> is in progress.</summary>
    public static ComponentExpectation Starting(int version) => new(1UL << version, false);

    /// <summary>A replace of <paramref name="from"/> by <paramref name="to"/> is in progress.</summary>
    public static ComponentExpectation Replacing(int from, int to) => new((1UL << from) | (1UL << to), true);

    /// <summary>A stop of <paramref name="version"/> is in progress.</summary>
    public static ComponentExpectation Stopping(int version) => new(1UL << version, false);

    /// <summary>Whether version <paramref name="version"/> may be seen.</summary>
    public bool Allows(int version) => (Allowed & (1UL << version)) != 0;
}
