namespace BpfSim.Core.Bpf.Net;

/// <summary>STAND-IN for t-kern's XdpHook (replaced at merge).</summary>
public sealed class XdpHook
{
    /// <summary>The body run (stand-in only).</summary>
    public PacketProgramFunc? Body { get; set; }

    public bool IsEmpty => Body is null;

    public int Run(ref PacketContext ctx) => Body is { } b ? b(ref ctx) : (int)XdpAction.Pass;
}
