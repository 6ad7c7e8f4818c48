namespace BpfSim.Core.Bpf.Consumers;

/// <summary>A consumer found in an assembly: what <c>bpfsim list</c> shows and what a scenario names.</summary>
public sealed record ConsumerInfo(string Name, string StructOpsType, Type ClrType, string Source, string Description, bool Link, uint Flags);
