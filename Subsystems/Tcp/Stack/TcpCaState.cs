namespace BpfSim.Tcp.Stack;

/// <summary><c>enum tcp_ca_state</c> (include/net/tcp.h), the values set_state receives.</summary>
public enum TcpCaState : byte
{
    Open = 0,
    Disorder = 1,
    CWR = 2,
    Recovery = 3,
    Loss = 4,
}
