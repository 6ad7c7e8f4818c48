namespace BpfSim.Tcp.Net;

/// <summary>struct codel_vars (include/net/codel.h): one CoDel instance's state (per queue, or per fq_codel flow).</summary>
public struct CodelVars
{
    /// <summary>Packets dropped (or marked) since entering the dropping state.</summary>
    public uint Count;
    /// <summary>count at the previous entry into the dropping state, for the re-entry decay.</summary>
    public uint LastCount;
    /// <summary>In the dropping state.</summary>
    public bool Dropping;
    /// <summary>1/sqrt(count) in Q0.16 (the kernel keeps 16 bits, REC_INV_SQRT_BITS).</summary>
    public ushort RecInvSqrt;
    /// <summary>When the sojourn time went above target and will have stayed there for an interval; 0 = below.</summary>
    public uint FirstAboveTime;
    /// <summary>When the next drop is due in the dropping state.</summary>
    public uint DropNext;
    /// <summary>The last packet's sojourn time (codel units).</summary>
    public uint Ldelay;
}
