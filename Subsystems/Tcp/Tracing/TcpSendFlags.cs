namespace BpfSim.Tcp.Tracing;

/// <summary>What kind of transmission a traced data segment was.</summary>
[Flags]
public enum TcpSendFlags : byte
{
    /// <summary>New data.</summary>
    None = 0,
    /// <summary>A retransmission (counted in tcpi_total_retrans).</summary>
    Retransmit = 1,
    /// <summary>A tail loss probe (tcp_send_loss_probe): new data, or the last segment sent again.</summary>
    LossProbe = 2,
    /// <summary>A retransmission in CA_Loss, i.e. after a retransmission timeout (tcp_enter_loss).</summary>
    Rto = 4,
}
