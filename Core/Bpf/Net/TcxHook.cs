namespace BpfSim.Core.Bpf.Net;

/// <summary>STAND-IN for t-kern's TcxHook (replaced at merge).</summary>
public sealed class TcxHook
{
    /// <summary>The body run (stand-in only).</summary>
    public PacketProgramFunc? Body { get; set; }

    public bool IsEmpty => Body is null;

    public int Run(ref PacketContext ctx) => Body is { } b ? b(ref ctx) : TcxAction.Next;
}
