using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// The interfaces a scenario's topology has before any flow opens (its routers' ports), found by building the
/// topology: what <c>xdp:</c> entries may name and <c>bpfsim run --list-interfaces</c> shows. Hosts' ports
/// (<c>sI:eth0</c>, <c>rI:eth0</c>; <c>pl_sI:eth0</c>, <c>pl_rI:eth0</c>) appear as their flows open.
/// </summary>
public static class TopologyInterfaces
{
    /// <summary>The routers' interfaces of <paramref name="network"/>'s topology, in ifindex order.</summary>
    public static IReadOnlyList<string> Of(NetworkSpec network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var net = new Network(new Simulator(), 0);
        if (network.Topology == TopologyKind.ParkingLot)
        {
            _ = new ParkingLot(net, new ParkingLotOptions { Hops = network.Hops });
        }
        else
        {
            _ = new Dumbbell(net, new DumbbellOptions());
        }
        return net.Interfaces.Select(i => i.Name).ToList();
    }

    /// <summary>
    /// The flow index I of a host's interface name of <paramref name="network"/>'s topology (<c>sI:eth0</c> or
    /// <c>rI:eth0</c>; <c>pl_sI:eth0</c>, <c>pl_rI:eth0</c> in a parking lot); false for any other name.
    /// </summary>
    public static bool TryHostFlow(NetworkSpec network, string name, out int flow)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(name);
        flow = -1;
        string prefix = network.Topology == TopologyKind.ParkingLot ? "pl_" : "";
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(":eth0", StringComparison.Ordinal))
        {
            return false;
        }
        var node = name.AsSpan(prefix.Length, name.Length - prefix.Length - ":eth0".Length);
        return node.Length > 1 && node[0] is 's' or 'r' && char.IsAsciiDigit(node[1]) && (node.Length == 2 || node[1] != '0') &&
               int.TryParse(node[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out flow);
    }

    /// <summary>The pattern of the hosts' interfaces of <paramref name="network"/>'s topology.</summary>
    public static string HostPattern(NetworkSpec network) =>
        network.Topology == TopologyKind.ParkingLot ? "pl_sI:eth0, pl_rI:eth0" : "sI:eth0, rI:eth0";
}
