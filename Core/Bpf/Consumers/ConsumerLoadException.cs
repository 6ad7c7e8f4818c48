namespace BpfSim.Core.Bpf.Consumers;

/// <summary>An external consumer assembly could not be loaded; the message says which file and why.</summary>
public sealed class ConsumerLoadException(string message, Exception? inner = null) : Exception(message, inner);
