using BpfSim.Core.Simulation;
using System.Text.RegularExpressions;
using BpfSim.Core.Workloads;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Pcap;

/// <summary>
/// <c>--pcap LINK</c>: writes DIR/LINK.pcap with every packet transmitted on a link and on its reverse direction
/// (bottleneck and bottleneck_rev, hop1 and hop1_rev, a flow's access links s0_up and s0_down), stamped with the
/// instant its last bit left the transmitter. Access links are tapped as the flow that adds them opens, before its SYN.
/// A link announces a packet when its transmission starts; the packet is held until no packet of the other direction
/// can leave earlier (one per direction at most, since a link sends one packet at a time), so the file is in time
/// order. Frames are built in one reused buffer. The capture never changes the run.
/// </summary>
public sealed class LinkCapture : ITcpRunObserver, ILinkTap
{
    /// <summary>Frame bytes kept per packet: every header (at most 14 + 20 + 60) and the start of the payload.</summary>
    public const int DefaultSnapLength = 128;

    private readonly string _linkName;
    private readonly string _path;
    private readonly int _snapLength;
    private readonly byte[] _frame;
    private FlowAddresses[] _flows = new FlowAddresses[16];
    private Link[] _links = [];
    private Pending[] _pending = [];
    private ILinkTap?[] _chained = []; // the taps that were on the links before (another capture of the same link)
    private Simulator? _sim;
    private int _mss;
    private bool _finished;
    private string _reverseName = "";
    private Network? _network;
    private PcapWriter? _writer;

    /// <param name="linkName">The link to capture (either direction's name).</param>
    /// <param name="path">The pcap file to write.</param>
    /// <param name="snapLength">Frame bytes kept per packet.</param>
    public LinkCapture(string linkName, string path, int snapLength = DefaultSnapLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        (_linkName, _path, _snapLength) = (linkName, path, snapLength);
        _frame = new byte[snapLength];
    }

    /// <summary>The file written.</summary>
    public string Path => _path;

    /// <summary>Frames written (once finished).</summary>
    public long Frames => _writer?.Records ?? 0;

    /// <summary>
    /// The other direction of the link called <paramref name="name"/>: NAME_rev for NAME and back (the shared links),
    /// NAME_down for NAME_up and back (a flow's access links).
    /// </summary>
    public static string ReverseName(string name) =>
        name.EndsWith("_rev", StringComparison.Ordinal) ? name[..^4]
        : name.EndsWith("_up", StringComparison.Ordinal) ? name[..^3] + "_down"
        : name.EndsWith("_down", StringComparison.Ordinal) ? name[..^5] + "_up"
        : name + "_rev";

    /// <summary>
    /// Whether <paramref name="name"/> is an access link the run will add when a flow opens: <c>sI_up</c>,
    /// <c>sI_down</c>, <c>rI_down</c>, <c>rI_up</c> on a dumbbell (<c>pl_</c> before them on a parking lot), with I
    /// below the number of flows when every flow group has a fixed count.
    /// </summary>
    public static bool IsAccessLink(TcpScenarioSpec spec, string name)
    {
        var m = s_accessLink.Match(name);
        if (!m.Success || (m.Groups[1].Length > 0) != (spec.Network.Topology == TopologyKind.ParkingLot))
        {
            return false;
        }
        bool arrivals = spec.Flows.Any(f => f.Arrivals != ArrivalKind.Fixed);
        return arrivals || (long.TryParse(m.Groups[2].Value, out long i) && i < spec.Flows.Sum(f => (long)f.Count));
    }

    private static readonly Regex s_accessLink = new(@"^(pl_)?[sr](\d+)_(up|down)$", RegexOptions.CultureInvariant);

    /// <inheritdoc/>
    /// <exception cref="ScenarioRunException">The run has no link of that name and will add none.</exception>
    public void Attach(TcpRunContext run)
    {
        var links = run.Network.Links;
        if (!links.Any(l => l.Name == _linkName) && !IsAccessLink(run.Spec, _linkName))
        {
            string prefix = run.Spec.Network.Topology == TopologyKind.ParkingLot ? "pl_" : "";
            throw new ScenarioRunException($"--pcap {_linkName}: no such link; this run's links are " +
                string.Join(", ", links.Select(l => l.Name)) +
                $", and each flow's access links {prefix}sI_up, {prefix}sI_down, {prefix}rI_down, {prefix}rI_up (I = flows.csv's id - 1)");
        }
        _sim = run.Simulator;
        _mss = run.Stack.Options.Mss;
        _reverseName = ReverseName(_linkName);
        if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }
        _writer = new PcapWriter(_path, _snapLength);
        foreach (var link in links)
        {
            Consider(link);
        }
        _network = run.Network;
        _network.LinkAdded += Consider;
    }

    /// <summary>Taps <paramref name="link"/> if it is one of the captured link's directions.</summary>
    private void Consider(Link link)
    {
        if (link.Name != _linkName && link.Name != _reverseName)
        {
            return;
        }
        _links = [.. _links, link];
        _chained = [.. _chained, link.Tap];
        Array.Resize(ref _pending, _links.Length);
        link.Tap = this;
    }

    /// <inheritdoc/>
    public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
    {
        if (conn.Id >= _flows.Length)
        {
            Array.Resize(ref _flows, Math.Max(_flows.Length * 2, conn.Id + 1));
        }
        _flows[conn.Id] = FlowAddresses.For(conn.Id, conn.Path.Forward, conn.Path.Reverse, _mss);
    }

    /// <inheritdoc/>
    public void Departing(Link link, in Packet packet, in SackBlocks sacks, long departureNs)
    {
        if (_finished)
        {
            return;
        }
        Flush(_sim!.Now.Nanoseconds);
        int slot = 0;
        while (_links[slot] != link)
        {
            slot++;
        }
        ref var p = ref _pending[slot];
        p.Packet = packet;
        p.Sacks = sacks;
        p.DepartureNs = departureNs;
        p.Full = true;
        _chained[slot]?.Departing(link, in packet, in sacks, departureNs);
    }

    /// <summary>Writes, oldest first, the held packets that left by <paramref name="now"/>.</summary>
    private void Flush(long now)
    {
        while (true)
        {
            int next = -1;
            for (int i = 0; i < _pending.Length; i++)
            {
                if (_pending[i].Full && _pending[i].DepartureNs <= now && (next < 0 || _pending[i].DepartureNs < _pending[next].DepartureNs))
                {
                    next = i;
                }
            }
            if (next < 0)
            {
                return;
            }
            _pending[next].Full = false;
            Write(in _pending[next].Packet, in _pending[next].Sacks, _pending[next].DepartureNs);
        }
    }

    private void Write(in Packet packet, in SackBlocks sacks, long timeNs)
    {
        if ((uint)packet.Flow >= (uint)_flows.Length || !_flows[packet.Flow].Known)
        {
            return; // not a connection's packet
        }
        ref var flow = ref _flows[packet.Flow];
        bool fromSender = packet.Route == flow.ForwardRoute;
        int wire = PacketHeaders.Build(_frame, in packet, in sacks, ref flow, fromSender, out int captured);
        _writer!.Write(timeNs, _frame.AsSpan(0, captured), wire);
    }

    /// <inheritdoc/>
    /// <remarks>Packets still being transmitted at the end (their last bit leaves after it) are not written.</remarks>
    public void Finish(SimTime end)
    {
        Flush(end.Nanoseconds);
        // Every capture of these links finishes now: the taps go, so the run's tear-down sends nothing to closed files.
        foreach (var link in _links)
        {
            link.Tap = null;
        }
        if (_network is not null)
        {
            _network.LinkAdded -= Consider;
        }
        _finished = true;
        _writer?.Dispose();
    }

    /// <summary>A packet announced but not yet written: at most one per direction.</summary>
    private struct Pending
    {
        public Packet Packet;
        public SackBlocks Sacks;
        public long DepartureNs;
        public bool Full;
    }
}
