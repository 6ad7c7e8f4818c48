using BpfSim.Core.Bpf;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// A scenario's <c>xdp:</c> entries replayed alone, at their times, on a fresh kernel: the same actions a run carries
/// out (<see cref="TcpScenarioRunner"/>), on a network of the interfaces the entries name, all present from the start
/// (a host's port included), without links or flows. What the kernel would refuse in the run — an object or program
/// the loader refuses, an attach it refuses (EBUSY for a replace in the other attach mode, EINVAL for a devmap
/// program) — and a C# program that cannot be constructed are thrown as <see cref="ScenarioRunException"/> at the
/// entry's line, so the scenario checker reports them before the run, as it does struct_ops entries' refusals.
/// </summary>
public sealed class XdpReplay
{
    private readonly BpfSystem _bpf;
    private readonly XdpActions _actions;
    private readonly IReadOnlyList<XdpEntry> _entries;

    /// <param name="bpf">A fresh system: the interfaces become its net devices.</param>
    public XdpReplay(BpfSystem bpf, IReadOnlyList<XdpEntry> entries, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(entries);
        _bpf = bpf;
        _entries = entries;
        var net = new Network(bpf.Simulator, seed);
        foreach (string name in entries.Select(e => e.Interface).Distinct(StringComparer.Ordinal))
        {
            int colon = name.LastIndexOf(':');
            var node = net.FindNode(name[..colon]) ?? net.AddNode(name[..colon], isRouter: false);
            net.AddInterface(node, name[(colon + 1)..]);
        }
        net.AttachKernel(bpf);
        _actions = new XdpActions(bpf, net, [], refuse: true);
    }

    /// <summary>The entry being attached, if any (read by a watchdog on another thread).</summary>
    public XdpEntry? Current => _actions.Current;

    /// <summary>Carries out the entries up to <paramref name="duration"/>.</summary>
    /// <returns>The maps the programs created, as a run reports them (<see cref="TcpRunResult.XdpMaps"/>).</returns>
    /// <exception cref="ScenarioRunException">The kernel refused an entry's load or attach, at that entry's location.</exception>
    public IReadOnlyList<XdpMapResult> Run(SimTime duration)
    {
        _actions.Schedule(_entries);
        _bpf.Simulator.RunUntil(duration);
        return _actions.Maps();
    }
}
