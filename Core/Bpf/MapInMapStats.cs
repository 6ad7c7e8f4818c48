using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf;

/// <summary>What waiting after map-in-map updates has cost so far.</summary>
public sealed class MapInMapStats
{
    /// <summary>User-space updates and deletes on outer maps that succeeded.</summary>
    public long Swaps { get; internal set; }

    /// <summary>Grace periods waited for by those calls and by <see cref="BpfSystem.Synchronize"/>.</summary>
    public long GracePeriodsWaited { get; internal set; }

    /// <summary>Simulated time callers spent blocked in those calls.</summary>
    public SimTime TimeBlocked { get; internal set; }

    /// <summary>Program-reference waits that hit their bound with programs still holding the map.</summary>
    public long BoundExpirations { get; internal set; }
}
