namespace BpfSim.Core.Cpus;

/// <summary>
/// A blocking grace-period wait did not finish within the stall timeout because CPUs stayed inside read-side
/// critical sections: a simulated program never returned. The kernel would print an RCU CPU stall warning.
/// </summary>
public sealed class RcuStallException : Exception
{
    public RcuStallException(string message, IReadOnlyList<int> stalledCpus) : base(message)
    {
        StalledCpus = stalledCpus;
    }

    /// <summary>The CPUs that had not reported a quiescent state.</summary>
    public IReadOnlyList<int> StalledCpus { get; }
}
