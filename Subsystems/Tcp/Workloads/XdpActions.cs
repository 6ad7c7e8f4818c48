using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Carries out a scenario's <c>xdp:</c> entries: at each entry's time, loads its object (maps and global data through
/// the BPF object runtime, its globals set first) and its XDP program, and attaches it to the interface's device as
/// a link or by fd; detaches it at <c>detach_at</c>. A failure is a note of the run, as the kernel's errno.
/// </summary>
internal sealed class XdpActions
{
    private readonly BpfSystem _bpf;
    private readonly Network _net;
    private readonly List<string> _notes;
    private readonly List<Attached> _attached = [];
    private readonly List<(string Name, LoadedObject Object)> _objects = [];

    private sealed class Attached(XdpEntry entry, NetInterface iface, BytecodeProgram program)
    {
        public XdpEntry Entry { get; } = entry;
        public NetInterface Interface { get; } = iface;
        public BytecodeProgram Program { get; } = program;
        public int ProgFd { get; set; } = -1;
        public int LinkFd { get; set; } = -1;
    }

    public XdpActions(BpfSystem bpf, Network net, List<string> notes) => (_bpf, _net, _notes) = (bpf, net, notes);

    public void Schedule(IReadOnlyList<XdpEntry> entries)
    {
        var sim = _bpf.Simulator;
        foreach (var entry in entries)
        {
            sim.Schedule(entry.At, () => Attach(entry));
            if (entry.DetachAt is { } at)
            {
                sim.Schedule(at, () => Detach(entry));
            }
        }
    }

    private void Note(XdpEntry entry, string message) =>
        _notes.Add($"t={_bpf.Simulator.Now}: xdp {Path.GetFileName(entry.Program)} on {entry.Interface}" +
                   $"{(entry.Location is null ? "" : $" ({entry.Location})")}: {message}");

    private void Attach(XdpEntry entry)
    {
        var iface = _net.FindInterface(entry.Interface);
        if (iface?.Device is not { } dev)
        {
            Note(entry, "no such interface in this run");
            return;
        }
        var spec = ObjectReader.Read(entry.Program);
        if (entry.Globals.Count > 0)
        {
            spec = ConsumerGlobals.Apply(spec, entry.Globals, out var errors);
            if (errors.Count > 0)
            {
                Note(entry, string.Join("; ", errors.Select(e => e.Message)));
                return;
            }
        }
        var r = ObjectLoader.Load(_bpf, spec, entry.Program, out var obj, autocreate: []);
        if (!r.IsOk)
        {
            Note(entry, r.ToString());
            return;
        }
        r = ObjectLoader.LoadXdpProgram(_bpf, obj!, entry.ProgramName, out var program);
        if (!r.IsOk)
        {
            Note(entry, r.ToString());
            return;
        }
        _objects.Add((Path.GetFileName(entry.Program), obj!));
        var attached = new Attached(entry, iface, program!);
        // replace: an earlier entry's attachment on this interface is swapped (its link updated, or its program replaced).
        var previous = entry.Replace ? _attached.LastOrDefault(a => a.Interface == iface && a.LinkFd >= 0 == (entry.Mode == XdpAttachMode.Link)) : null;
        r = XdpAttachment.Attach(_bpf, dev, program!, entry.Mode, entry.Replace, previous?.LinkFd ?? -1, out int progFd, out int linkFd);
        if (!r.IsOk)
        {
            Note(entry, r.ToString());
            return;
        }
        (attached.ProgFd, attached.LinkFd) = (progFd, linkFd);
        _attached.Add(attached);
    }

    private void Detach(XdpEntry entry)
    {
        var attached = _attached.LastOrDefault(a => a.Entry == entry);
        if (attached is null)
        {
            return; // never attached: noted then
        }
        var r = XdpAttachment.Detach(_bpf, attached.Interface.Device!, attached.ProgFd, attached.LinkFd, entry.Mode);
        if (!r.IsOk)
        {
            Note(entry, "detach: " + r);
        }
    }

    /// <summary>The XDP objects loaded, in load order (their programs' statistics join the summary's <c>programs</c>).</summary>
    public IEnumerable<LoadedObject> Objects => _objects.Select(o => o.Object);

    /// <summary>Every interface with a program attached during the run, or with anything counted, in ifindex order.</summary>
    public IReadOnlyList<XdpInterfaceResult> Results() =>
        _net.Interfaces.Where(i => i.Counters.Any || _attached.Any(a => a.Interface == i))
            .Select(i =>
            {
                var c = i.Counters;
                var programs = _attached.Where(a => a.Interface == i).Select(a =>
                    $"{a.Program.Name} ({(a.Entry.Mode == XdpAttachMode.Link ? "link" : "prog")}, {a.Entry.At}–{(a.Entry.DetachAt is { } d ? d.ToString() : "end")})").ToList();
                return new XdpInterfaceResult(i.Name, i.Device?.Ifindex ?? 0, programs)
                {
                    Pass = c.Pass, Drop = c.Drop, Tx = c.Tx, Redirect = c.Redirect, Aborted = c.Aborted, TcxDrop = c.TcxDrop,
                    RedirectFailed = c.RedirectFailed, NoRoute = c.NoRoute, TtlExpired = c.TtlExpired,
                };
            }).ToList();

    /// <summary>The maps of the XDP objects (not their global-data maps), dumped now.</summary>
    public IReadOnlyList<XdpMapResult> Maps() =>
        _objects.SelectMany(o => o.Object.Maps.Where(m => !m.Name.StartsWith('.')).Select(m =>
            new XdpMapResult(m.Name, m.Map.Id, m.Map.Type.ShortName(), o.Name, BpftoolText.MapDump(m.Map), BpftoolJson.MapDump(m.Map)))).ToList();

    /// <summary>Program faults (each an XDP_ABORTED), for the notes.</summary>
    public IEnumerable<string> FaultNotes() =>
        _attached.Where(a => a.Program.Faults > 0).Select(a =>
            $"xdp {a.Program.Name} on {a.Interface.Name}: {a.Program.Faults} run(s) faulted, each XDP_ABORTED; the last: {a.Program.LastFault!.Message}");
}
