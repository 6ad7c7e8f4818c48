namespace BpfSim.Studies.Output;

/// <summary>One algorithm's Pantheon pair: its throughput and the 95th percentile of its packets' one-way delay.</summary>
public sealed record AlgorithmPoint(string Algorithm, double ThroughputMbps, double DelayP95Ms);
