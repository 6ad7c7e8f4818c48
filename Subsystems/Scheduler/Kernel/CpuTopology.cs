namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// The simulated machine's CPUs: SMT siblings (cpu_smt_mask) and NUMA nodes (cpumask_of_node), which sched_ext's
/// idle-CPU selection (scx_select_cpu_dfl, scx_pick_idle_cpu) prefers in that order.
/// </summary>
public sealed class CpuTopology
{
    private readonly Cpumask[] _smt;
    private readonly Cpumask[] _nodes;
    private readonly int[] _nodeOf;

    /// <param name="cpus">nr_cpu_ids, 1 … <see cref="Cpumask.MaxCpus"/>.</param>
    /// <param name="smt">Two hardware threads per core: CPUs 2k and 2k+1 are siblings (needs an even count).</param>
    /// <param name="nodes">NUMA nodes, each a contiguous block of whole cores.</param>
    public CpuTopology(int cpus, bool smt = false, int nodes = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpus, Cpumask.MaxCpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        int threads = smt ? 2 : 1;
        if (cpus % threads != 0)
        {
            throw new ArgumentException($"{cpus} CPUs cannot be split into 2-thread SMT cores", nameof(smt));
        }
        int cores = cpus / threads;
        if (cores % nodes != 0)
        {
            throw new ArgumentException($"{cores} cores cannot be split evenly into {nodes} NUMA nodes", nameof(nodes));
        }
        Count = cpus;
        Smt = smt;
        NodeCount = nodes;
        Possible = Cpumask.FirstN(cpus);
        _smt = new Cpumask[cpus];
        _nodes = new Cpumask[nodes];
        _nodeOf = new int[cpus];
        int cpusPerNode = cpus / nodes;
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            int first = cpu / threads * threads;
            for (int t = 0; t < threads; t++)
            {
                _smt[cpu].Set(first + t);
            }
            int node = cpu / cpusPerNode;
            _nodeOf[cpu] = node;
            _nodes[node].Set(cpu);
        }
    }

    /// <summary>nr_cpu_ids.</summary>
    public int Count { get; }

    /// <summary>Whether CPUs come in SMT pairs (sched_smt_active()).</summary>
    public bool Smt { get; }

    public int NodeCount { get; }

    /// <summary>cpu_possible_mask (= online: bpfsim's CPUs are all online unless hotplugged).</summary>
    public Cpumask Possible { get; }

    /// <summary>cpu_smt_mask(cpu): the CPU and its siblings.</summary>
    public ref readonly Cpumask SmtMask(int cpu) => ref _smt[cpu];

    /// <summary>cpu_to_node(cpu).</summary>
    public int NodeOf(int cpu) => _nodeOf[cpu];

    /// <summary>cpumask_of_node(node).</summary>
    public ref readonly Cpumask NodeMask(int node) => ref _nodes[node];
}
