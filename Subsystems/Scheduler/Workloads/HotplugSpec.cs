using BpfSim.Core.Simulation;

namespace BpfSim.Scheduler.Workloads;

/// <summary>One line of a scheduler scenario's <c>hotplug:</c> list: at <see cref="At"/>, CPU <see cref="Cpu"/> goes offline or comes back online.</summary>
public sealed record HotplugSpec
{
    public required SimTime At { get; init; }
    public required int Cpu { get; init; }
    /// <summary>True: cpu_up (echo 1 &gt; /sys/devices/system/cpu/cpuN/online); false: cpu_down.</summary>
    public required bool Online { get; init; }
    /// <summary>Where the line is written (<c>file:line:column</c>), for run-time messages.</summary>
    public string? Location { get; init; }
}
