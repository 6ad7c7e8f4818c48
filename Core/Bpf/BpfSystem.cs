using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Cpus;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf;

/// <summary>
/// The simulated bpf(2): object ids, per-process fds, refcounts, and the commands. Commands act for
/// <see cref="Caller"/> (the kernel's <c>current</c>) and report failure as the syscall does, with an errno and a
/// reason (<see cref="BpfResult"/>), never by throwing.
/// </summary>
public sealed partial class BpfSystem
{
    /// <summary>Where the kernel BTF comes from (set by the composition); null when no subsystem describes its types.</summary>
    public Func<Ebpf.Btf.BtfSpec>? KernelBtfSource { get; set; }

    /// <summary>What programs wrote with bpf_printk, in order (the trace_pipe of the run).</summary>
    public List<TraceLine> Trace { get; } = [];

    /// <summary>The simulated kernel's BTF: the target of CO-RE relocations; null without a source.</summary>
    public Ebpf.Btf.BtfSpec? KernelBtf => KernelBtfSource?.Invoke();

    private readonly List<BpfProcess> _processes = [];
    private readonly int[] _programDepth;
    private readonly BpfMap?[][] _heldOuterMaps;
    private readonly int[] _heldCount;
    private readonly long[] _programExits;
    private readonly bool[] _heldOverflow;
    private const int MaxHeldOuterMaps = 16;

    public BpfSystem(BpfSystemOptions? options = null, Simulator? simulator = null)
    {
        Options = options ?? new BpfSystemOptions();
        Options.Validate();
        Simulator = simulator ?? new Simulator();
        Cpus = new CpuSet(Options.Cpus);
        Rcu = new Rcu(Simulator, Cpus, Options.Rcu);
        Objects = new ObjectTable();
        _programDepth = new int[Cpus.Count];
        _heldCount = new int[Cpus.Count];
        _programExits = new long[Cpus.Count];
        _heldOverflow = new bool[Cpus.Count];
        _heldOuterMaps = new BpfMap?[Cpus.Count][];
        for (int i = 0; i < Cpus.Count; i++)
        {
            _heldOuterMaps[i] = new BpfMap?[MaxHeldOuterMaps];
        }
        Caller = CreateProcess("user");
    }

    public BpfSystemOptions Options { get; }
    public Simulator Simulator { get; }
    public CpuSet Cpus { get; }
    public Rcu Rcu { get; }
    public ObjectTable Objects { get; }

    /// <summary>The process whose fd table commands use (the kernel's <c>current</c>).</summary>
    public BpfProcess Caller { get; set; }

    /// <summary>Raised when an object's memory is freed (after any grace period).</summary>
    public event Action<BpfObject>? ObjectFreed;

    /// <summary>Objects freed so far.</summary>
    public long FreedObjects { get; private set; }

    internal void NotifyFreed(BpfObject obj)
    {
        FreedObjects++;
        ObjectFreed?.Invoke(obj);
    }

    // ---- processes ----

    /// <summary>Starts a simulated process with an empty fd table.</summary>
    public BpfProcess CreateProcess(string name)
    {
        var p = new BpfProcess(this, _processes.Count + 100, name);
        _processes.Add(p);
        return p;
    }

    /// <summary>Ends <paramref name="process"/>: every fd it holds is closed, as at exit(2).</summary>
    public void ExitProcess(BpfProcess process)
    {
        foreach (int fd in process.Fds().ToArray())
        {
            CloseIn(process, fd);
        }
    }

    // ---- program invocations ----

    /// <summary>
    /// Starts a program invocation on <paramref name="cpu"/>: the CPU becomes current (per-CPU maps address its
    /// slot) and enters an RCU read-side section until the scope is disposed.
    /// </summary>
    public ProgramScope EnterProgram(int cpu)
    {
        int previous = Cpus.Swap(cpu);
        Rcu.ReadLock(cpu);
        _programDepth[cpu]++;
        return new ProgramScope(this, cpu, previous);
    }

    internal void ExitProgram(int cpu, int previousCpu)
    {
        if (_programDepth[cpu] == 0)
        {
            throw new InvalidOperationException($"program scope on CPU {cpu} ended twice");
        }
        if (--_programDepth[cpu] == 0)
        {
            var held = _heldOuterMaps[cpu];
            for (int i = 0; i < _heldCount[cpu]; i++)
            {
                held[i] = null;
            }
            _heldCount[cpu] = 0;
            _heldOverflow[cpu] = false;
            _programExits[cpu]++;
        }
        Rcu.ReadUnlock(cpu);
        Cpus.Swap(previousCpu);
    }

    /// <summary>Records that the program on <paramref name="cpu"/> looked up <paramref name="outer"/>.</summary>
    internal void NoteProgramReader(BpfMap outer, int cpu)
    {
        var held = _heldOuterMaps[cpu];
        int n = _heldCount[cpu];
        for (int i = 0; i < n; i++)
        {
            if (ReferenceEquals(held[i], outer))
            {
                return;
            }
        }
        if (n < held.Length)
        {
            held[n] = outer;
            _heldCount[cpu] = n + 1;
        }
        else
        {
            // More distinct outer maps than tracked: the per-map wait treats this invocation as holding every map.
            _heldOverflow[cpu] = true;
        }
    }

    private bool Holds(int cpu, BpfMap outer)
    {
        if (_heldOverflow[cpu])
        {
            return true;
        }
        var held = _heldOuterMaps[cpu];
        for (int i = 0; i < _heldCount[cpu]; i++)
        {
            if (ReferenceEquals(held[i], outer))
            {
                return true;
            }
        }
        return false;
    }
}
