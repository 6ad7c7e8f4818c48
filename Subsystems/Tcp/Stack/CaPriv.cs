using System.Runtime.CompilerServices;

namespace BpfSim.Tcp.Stack;

/// <summary>
/// <c>icsk_ca_priv</c>: the congestion control's private area, ICSK_CA_PRIV_SIZE = 104 bytes
/// (13 × u64, include/net/inet_connection_sock.h), zeroed on assignment and re-init.
/// </summary>
[InlineArray(Size)]
public struct CaPriv
{
    public const int Size = 104;

    private byte _element0;
}
