namespace BpfSim.Tcp.Net;

/// <summary>The two ECN bits of the IP header (RFC 3168).</summary>
public enum EcnCodepoint : byte
{
    NotEct = 0,
    Ect1 = 1,
    Ect0 = 2,
    /// <summary>Congestion Experienced: set by a queue instead of dropping an ECN-capable packet.</summary>
    Ce = 3,
}
