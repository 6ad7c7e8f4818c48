namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// What a tcx program returns: <c>enum tcx_action_base</c> (include/uapi/linux/bpf.h), the TC_ACT_* values with
/// TCX_NEXT added so a program can hand the packet to the next one in the bundle.
/// </summary>
public static class TcxAction
{
    /// <summary>Run the next program; after the last one, continue to the classic tc path.</summary>
    public const int Next = -1;
    public const int Pass = 0;
    public const int Drop = 2;
    public const int Redirect = 7;
}
