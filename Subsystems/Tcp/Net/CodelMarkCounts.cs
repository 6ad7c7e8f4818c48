namespace BpfSim.Tcp.Net;

/// <summary>
/// CoDel's two CE counters as codel_impl.h keeps them: ecn_mark (marked instead of dropped, the control law) and
/// ce_mark (marked for a sojourn above ce_threshold). A packet both mark counts in each.
/// </summary>
internal struct CodelMarkCounts
{
    public long Ecn;
    public long Ce;

    public void Add(bool ceThreshold)
    {
        if (ceThreshold)
        {
            Ce++;
        }
        else
        {
            Ecn++;
        }
    }
}
