namespace BpfSim.Studies.Traces;

/// <summary>A trace folder is missing, is not a bpfsim trace, or holds a record that does not match its schema.</summary>
public sealed class TraceFormatException(string message) : Exception(message);
