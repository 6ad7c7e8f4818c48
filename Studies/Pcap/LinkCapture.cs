using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Pcap;

/// <summary>
/// <c>--pcap LINK</c>: writes DIR/LINK.pcap with every packet transmitted on a link and on its reverse direction
/// (bottleneck and bottleneck_rev, hop1 and hop1_rev), stamped with the instant its last bit left the transmitter.
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
    private PcapFlow[] _flows = new PcapFlow[16];
    private Link[] _links = [];
    private Pending[] _pending = [];
    private ILinkTap?[] _chained = []; // the taps that were on the links before (another capture of the same link)
    private Simulator? _sim;
    private int _mss;
    private bool _finished;
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
    /// The two directions of the link called <paramref name="name"/> in <paramref name="links"/>: the link itself and
    /// its reverse (NAME_rev, or NAME without _rev), when it has one.
    /// </summary>
    public static IReadOnlyList<Link> Directions(IReadOnlyList<Link> links, string name)
    {
        var link = links.FirstOrDefault(l => l.Name == name);
        if (link is null)
        {
            return [];
        }
        var other = name.EndsWith("_rev", StringComparison.Ordinal) ? name[..^4] : name + "_rev";
        var reverse = links.FirstOrDefault(l => l.Name == other);
        return reverse is null ? [link] : name.EndsWith("_rev", StringComparison.Ordinal) ? [reverse, link] : [link, reverse];
    }

    /// <inheritdoc/>
    /// <exception cref="ScenarioRunException">The run has no link of that name.</exception>
    public void Attach(TcpRunContext run)
    {
        _links = [.. Directions(run.Network.Links, _linkName)];
        if (_links.Length == 0)
        {
            throw new ScenarioRunException($"--pcap {_linkName}: no such link; this run's links are " +
                string.Join(", ", run.Network.Links.Select(l => l.Name)));
        }
        _sim = run.Simulator;
        _mss = run.Stack.Options.Mss;
        _pending = new Pending[_links.Length];
        _chained = [.. _links.Select(l => l.Tap)];
        if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }
        _writer = new PcapWriter(_path, _snapLength);
        foreach (var link in _links)
        {
            link.Tap = this;
        }
    }

    /// <inheritdoc/>
    public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
    {
        if (conn.Id >= _flows.Length)
        {
            Array.Resize(ref _flows, Math.Max(_flows.Length * 2, conn.Id + 1));
        }
        _flows[conn.Id] = PcapFlow.For(conn.Id, conn.Path.Forward, conn.Path.Reverse, _mss);
    }

    /// <inheritdoc/>
    public void Departing(Link link, in Packet packet, long departureNs)
    {
        if (_finished)
        {
            return;
        }
        Flush(_sim!.Now.Nanoseconds);
        int slot = link == _links[0] ? 0 : 1;
        ref var p = ref _pending[slot];
        p.Packet = packet;
        p.DepartureNs = departureNs;
        p.Full = true;
        _chained[slot]?.Departing(link, in packet, departureNs);
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
            Write(in _pending[next].Packet, _pending[next].DepartureNs);
        }
    }

    private void Write(in Packet packet, long timeNs)
    {
        if ((uint)packet.Flow >= (uint)_flows.Length || !_flows[packet.Flow].Known)
        {
            return; // not a connection's packet
        }
        ref var flow = ref _flows[packet.Flow];
        bool fromSender = packet.Route == flow.ForwardRoute;
        int wire = TcpFrame.Build(_frame, in packet, ref flow, fromSender, out int captured);
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
        _finished = true;
        _writer?.Dispose();
    }

    /// <summary>A packet announced but not yet written: at most one per direction.</summary>
    private struct Pending
    {
        public Packet Packet;
        public long DepartureNs;
        public bool Full;
    }
}
