namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>
/// libxdp's program order (cmp_xdp_programs in xdp-tools lib/libxdp/libxdp.c): ascending priority, then name
/// (strcmp), then loaded before not loaded, then (two programs opened from object files) smaller instruction count
/// first, then tag (memcmp), then earlier load time; 0 when all of these are equal.
/// </summary>
public sealed class XdpProgramOrder : IComparer<XdpProgramSortKey>
{
    /// <summary>The comparer.</summary>
    public static XdpProgramOrder Instance { get; } = new();

    private XdpProgramOrder()
    {
    }

    public int Compare(XdpProgramSortKey a, XdpProgramSortKey b)
    {
        if (a.RunPrio != b.RunPrio)
        {
            return a.RunPrio < b.RunPrio ? -1 : 1;
        }
        int cmp = string.CompareOrdinal(a.Name, b.Name);
        if (cmp != 0)
        {
            return cmp < 0 ? -1 : 1;
        }
        if (a.IsLoaded != b.IsLoaded)
        {
            return a.IsLoaded ? -1 : 1;
        }
        if (a.Size != 0 && b.Size != 0 && a.Size != b.Size)
        {
            return a.Size < b.Size ? -1 : 1;
        }
        if (a.Tag != b.Tag)
        {
            return a.Tag < b.Tag ? -1 : 1;
        }
        return a.LoadTimeNs.CompareTo(b.LoadTimeNs);
    }
}
