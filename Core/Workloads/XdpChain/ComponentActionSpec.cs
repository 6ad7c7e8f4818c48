using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>One entry of a component's timeline: at <see cref="At"/>, start/replace with <see cref="Version"/>, or stop.</summary>
/// <param name="At">When user space begins the action (it may have to wait for the component's previous action).</param>
/// <param name="Kind">Start, replace or stop.</param>
/// <param name="Version">Index into <see cref="ChainComponentSpec.Versions"/>; ignored for stop.</param>
public sealed record ComponentActionSpec(SimTime At, ComponentActionKind Kind, int Version = 0);
