namespace BpfSim.Tcp.Net;

/// <summary>A Mahimahi trace breaks a rule of its format; <see cref="Line"/> is the 1-based line in <see cref="File"/>.</summary>
public sealed class DeliveryTraceException(string source, int line, string reason)
    : Exception($"{source}:{line}: {reason}")
{
    public string File { get; } = source;

    public int Line { get; } = line;

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; } = reason;
}
