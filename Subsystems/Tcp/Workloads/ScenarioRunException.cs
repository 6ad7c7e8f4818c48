namespace BpfSim.Tcp.Workloads;

/// <summary>A scenario could not be carried out (e.g. a consumer the kernel refuses to register); the message says when and why.</summary>
public sealed class ScenarioRunException(string message) : Exception(message);
