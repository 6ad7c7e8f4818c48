namespace BpfSim.Tcp.Net;

/// <summary>An endpoint at the end of a route: it receives packets by pool index and frees them when done.</summary>
public interface IPacketSink
{
    void Receive(int packet);
}
