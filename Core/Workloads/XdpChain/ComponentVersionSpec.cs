namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// One version of a component's program. Its body returns PASS (XDP) or NEXT (tcx) so the chain goes on; what it
/// costs per packet is modelled by <see cref="CostNs"/>, not measured.
/// </summary>
/// <param name="Name">The version's name (v1, v2, ...), shown in violation lists.</param>
/// <param name="CostNs">Simulated CPU time of one run of the program's own instructions.</param>
public sealed record ComponentVersionSpec(string Name, double CostNs = 20);
