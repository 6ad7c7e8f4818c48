namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// A consumer found in an assembly: what <c>bpfsim list</c> shows and what a scenario names. <see cref="Name"/> is
/// the catalog id; <see cref="Algorithm"/> the name it registers under (the same unless the attribute sets an Id).
/// </summary>
public sealed record ConsumerInfo(string Name, string StructOpsType, Type ClrType, string Source, string Description, bool Link,
    string Algorithm);
