namespace BpfSim.Tcp.Tracing;

/// <summary>One tcp_congestion_ops call as <see cref="ITcpTracer.CaCall"/> reports it.</summary>
/// <param name="Arg0">The first argument after <c>sk</c> (0 if none).</param>
/// <param name="Return">What a value-returning member returned; <see cref="NoReturn"/> for a void one.</param>
public readonly record struct TcpCaCall(TcpCaMember Member, long Arg0, long Arg1, long Arg2, long Return)
{
    /// <summary>The <see cref="Return"/> of a void member.</summary>
    public const long NoReturn = -1;
}
