namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>One program run a packet went through: which component's which version.</summary>
/// <param name="Component">Index into the scenario's components.</param>
/// <param name="Version">Index into the component's versions.</param>
public readonly record struct SeenProgram(int Component, int Version);
