using BpfSim.Core.Bpf;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Something that watches a TCP run from the inside (a per-event trace, a pcap of a link): attached once the topology
/// and stack exist and before any event runs, told of every flow as it opens, and finished after the run's last event.
/// Observers see the run, never steer it: a run with observers is bit-identical to one without.
/// </summary>
public interface ITcpRunObserver
{
    /// <summary>Called once, before the first event.</summary>
    void Attach(TcpRunContext run);

    /// <summary>A flow opened: <paramref name="conn"/> is its connection; <paramref name="group"/> its index in the scenario's flows.</summary>
    void FlowOpened(TcpConnection conn, FlowSpec spec, int group);

    /// <summary>The run ended at <paramref name="end"/> (before sockets close); flush and close what was written.</summary>
    void Finish(SimTime end);
}

/// <summary>What an <see cref="ITcpRunObserver"/> may look at in a run.</summary>
public sealed class TcpRunContext
{
    internal TcpRunContext(TcpScenarioSpec spec, BpfSystem bpf, Network network, TcpStack stack, IReadOnlyList<Link> watched)
    {
        (Spec, Bpf, Network, Stack, Watched) = (spec, bpf, network, stack, watched);
    }

    public TcpScenarioSpec Spec { get; }

    public BpfSystem Bpf { get; }

    public Simulator Simulator => Bpf.Simulator;

    public Network Network { get; }

    public TcpStack Stack { get; }

    /// <summary>The links the run reports on (the bottleneck, or a parking lot's hops).</summary>
    public IReadOnlyList<Link> Watched { get; }
}
