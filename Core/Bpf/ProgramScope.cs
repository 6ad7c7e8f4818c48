namespace BpfSim.Core.Bpf;

/// <summary>
/// A program invocation on a CPU: the CPU is current and inside an RCU read-side section until
/// <see cref="Dispose"/>. <see cref="Pause"/> and <see cref="Resume"/> let a test keep the invocation running
/// across simulated time while user space acts, as a long-running program on another CPU would.
/// </summary>
public readonly struct ProgramScope : IDisposable
{
    private readonly BpfSystem _system;
    private readonly int _previousCpu;

    internal ProgramScope(BpfSystem system, int cpu, int previousCpu)
    {
        _system = system;
        Cpu = cpu;
        _previousCpu = previousCpu;
    }

    /// <summary>The CPU the program runs on.</summary>
    public int Cpu { get; }

    /// <summary>Steps off the CPU without ending the invocation: its read-side section and map holds remain.</summary>
    public void Pause() => _system.Cpus.Swap(_previousCpu);

    /// <summary>Makes the program's CPU current again after <see cref="Pause"/>.</summary>
    public void Resume() => _system.Cpus.Swap(Cpu);

    /// <summary>Ends the invocation: leaves the read-side section and releases the maps it held.</summary>
    public void Dispose() => _system.ExitProgram(Cpu, _previousCpu);
}
