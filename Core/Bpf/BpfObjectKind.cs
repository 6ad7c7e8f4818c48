namespace BpfSim.Core.Bpf;

/// <summary>The kinds of bpf objects; each has its own id space, as the kernel's map_idr, prog_idr and link_idr.</summary>
public enum BpfObjectKind
{
    Map,
    Program,
    Link,
}
