using BpfSim.Core.Bpf.Net;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// A C# XDP program's <c>Run</c> behind its <see cref="ConsumerGuard"/>: what BPF_PROG_LOAD is given as the body. A
/// call that throws is a faulting program as the kernel sees one: the packet is XDP_ABORTED (the device counts it
/// and the <c>xdp_exception</c> trace point would fire), the guard records the fault, and every later call is refused
/// with XDP_ABORTED until the owner detaches the program.
/// </summary>
public sealed class GuardedXdpProgram
{
    private readonly PacketProgramFunc _run;

    /// <summary>Guards <paramref name="run"/> with <paramref name="guard"/> (member 0: <c>run</c>).</summary>
    public GuardedXdpProgram(PacketProgramFunc run, ConsumerGuard guard)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(guard);
        _run = run;
        Guard = guard;
    }

    /// <summary>The guard: its <see cref="ConsumerGuard.Fault"/> is the program's first fault.</summary>
    public ConsumerGuard Guard { get; }

    /// <summary>Runs the program on one packet; allocates nothing unless it faults.</summary>
    /// <returns>The program's <see cref="XdpAction"/>, or <see cref="XdpAction.Aborted"/> when it threw or was refused.</returns>
    public int Run(ref PacketContext ctx)
    {
        if (!Guard.Enter(0))
        {
            return (int)XdpAction.Aborted;
        }
        try
        {
            return _run(ref ctx);
        }
        catch (Exception e) when (Guard.Catch(0, e))
        {
            return (int)XdpAction.Aborted;
        }
        finally
        {
            Guard.Exit();
        }
    }
}
