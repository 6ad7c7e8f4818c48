using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

public sealed partial class Network : IEventPrefetcher
{
    /// <summary>
    /// The simulator asks about the likely next event while the one before it runs: an arrival reads its packet and
    /// the record of the link it enters next (both named by the argument, see <see cref="ArrivalArg"/>), a finished
    /// transmission its link's record. With 10,000 flows those were last touched a propagation delay ago and are
    /// rarely still in the caches. Only hints: no state changes.
    /// </summary>
    void IEventPrefetcher.Prefetch(int kind, long arg)
    {
        if (kind == KindArrival)
        {
            int packet = (int)arg;
            if ((uint)packet < (uint)Packets.Capacity)
            {
                Packets.Prefetch(packet);
            }
            int where = (int)(arg >> 32);
            if (where > 0)
            {
                _state.Prefetch(where - 1);
            }
        }
        else if (kind == KindTxComplete)
        {
            _state.Prefetch((int)arg);
        }
    }
}
