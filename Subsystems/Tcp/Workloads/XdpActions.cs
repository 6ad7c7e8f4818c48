using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Tcp.Net;

namespace BpfSim.Tcp.Workloads;

/// <summary>
/// Carries out a scenario's <c>xdp:</c> entries: at each entry's time, loads its object (maps and global data through
/// the BPF object runtime, its globals set first) and its XDP program, and attaches it to the interface's device as
/// a link or by fd; detaches it at <c>detach_at</c>. A failure is a note of the run, as the kernel's errno, or — for
/// the replay before a run (<see cref="XdpReplay"/>) — a <see cref="ScenarioRunException"/> at the entry's line. A
/// C# XDP program (<see cref="ConsumerKind.Xdp"/>) is constructed, its options set and loaded with BPF_PROG_LOAD at
/// that time; when it throws, the packet is XDP_ABORTED and the program is ejected (detached at the same instant) and
/// its fault reported as a struct_ops consumer's is (docs/faults.md).
/// </summary>
internal sealed class XdpActions
{
    private readonly BpfSystem _bpf;
    private readonly Network _net;
    private readonly List<string> _notes;
    private readonly List<Attached> _attached = [];
    private readonly List<(string Name, LoadedObject Object, string Interface)> _objects = [];
    private readonly List<(LoadedXdpConsumer Consumer, string Interface)> _consumers = [];
    private readonly List<ConsumerFault> _faults = [];
    private readonly List<XdpEntry> _pending = [];
    private readonly List<ConsumerGuard> _guards = [];

    /// <summary>
    /// The first ordinal of the C# XDP programs' guards: above any struct_ops guard's, so a contained run's watchdog
    /// (which names a hung call by its guard's ordinal) tells them apart.
    /// </summary>
    public const int GuardOrdinalBase = 1 << 20;

    /// <summary>Calls that earlier attempts of a contained run never returned from, by guard ordinal (see <see cref="ConsumerGuard.AbandonAt"/>).</summary>
    public IDictionary<int, (long Call, string Message)> AbandonedCalls { get; } = new Dictionary<int, (long, string)>();

    /// <summary>The guard of every C# XDP program loaded so far, in order; safe to read from another thread (the watchdog's).</summary>
    public IReadOnlyList<ConsumerGuard> Guards
    {
        get
        {
            lock (_guards)
            {
                return _guards.ToArray();
            }
        }
    }

    private sealed class Attached(XdpEntry entry, NetInterface iface, string name, BytecodeProgram? program, LoadedXdpConsumer? consumer)
    {
        public XdpEntry Entry { get; } = entry;
        public NetInterface Interface { get; } = iface;
        public string Name { get; } = name;
        public BytecodeProgram? Program { get; } = program;
        public LoadedXdpConsumer? Consumer { get; } = consumer;
        public int ProgFd { get; set; } = -1;
        public int LinkFd { get; set; } = -1;
        public bool Detached { get; set; }

        /// <summary>When a later entry's program replaced this one (its link updated, or its program swapped by fd).</summary>
        public SimTime? ReplacedAt { get; set; }
    }

    private readonly bool _refuse;
    private XdpEntry? _current;

    /// <param name="refuse">
    /// Throw <see cref="ScenarioRunException"/> at the entry's location for what the kernel refuses, and for a C#
    /// program that cannot be constructed, instead of noting it (the replay before a run).
    /// </param>
    public XdpActions(BpfSystem bpf, Network net, List<string> notes, bool refuse = false)
    {
        (_bpf, _net, _notes, _refuse) = (bpf, net, notes, refuse);
        net.InterfaceAdded += OnInterfaceAdded;
    }

    /// <summary>The entry being attached, if any (read by a watchdog on another thread).</summary>
    public XdpEntry? Current => Volatile.Read(ref _current);

    /// <summary>A host's port that entries wait for has appeared (its flow is opening): they attach now, before its first packet.</summary>
    private void OnInterfaceAdded(NetInterface iface)
    {
        if (_pending.Count == 0)
        {
            return;
        }
        foreach (var entry in _pending.Where(e => e.Interface == iface.Name).ToList())
        {
            _pending.Remove(entry);
            Attach(entry);
        }
    }

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

    /// <summary>What the kernel refused for <paramref name="entry"/>: a note of the run, or, replaying, bad input at the entry's line.</summary>
    private void Refused(XdpEntry entry, string message)
    {
        if (_refuse)
        {
            throw new ScenarioRunException($"t={_bpf.Simulator.Now}: xdp {Path.GetFileName(entry.Program)} on {entry.Interface}: {message}{Hint(entry, message)}",
                entry.Location);
        }
        Note(entry, message);
    }

    /// <summary>For a replace the kernel refused as EBUSY: what holds the hook, and how (dev_xdp_attach, net/core/dev.c).</summary>
    private string Hint(XdpEntry entry, string message)
    {
        var holder = _attached.LastOrDefault(a => a.Interface.Name == entry.Interface && !a.Detached);
        if (!entry.Replace || !message.Contains("EBUSY", StringComparison.Ordinal) || holder is null)
        {
            return "";
        }
        string line = holder.Entry.Location?.Split(':') is [.., var l, _] ? $" (line {l})" : "";
        return $"; {holder.Name}{line} holds the hook {(holder.LinkFd >= 0 ? "as a link (mode: link)" : "by its fd (mode: prog)")}, " +
               "and a replace must be made the same way";
    }

    /// <summary>The C# XDP programs' faults (each ejected its program), in the order they happened.</summary>
    public IReadOnlyList<ConsumerFault> Faults => _faults;

    private void Attach(XdpEntry entry)
    {
        Volatile.Write(ref _current, entry);
        var iface = _net.FindInterface(entry.Interface);
        if (iface is null)
        {
            // A host's port appears when its flow opens: the entry attaches then (OnInterfaceAdded).
            _pending.Add(entry);
            return;
        }
        if (iface.Device is not { } dev)
        {
            Note(entry, "the interface is no net device in this run");
            return;
        }
        if (entry.Consumer is { } consumer)
        {
            AttachConsumer(entry, consumer, iface, dev);
            return;
        }
        var spec = ObjectReader.Read(entry.Program);
        if (entry.Globals.Count > 0)
        {
            spec = ConsumerGlobals.Apply(spec, entry.Globals, out var errors);
            if (errors.Count > 0)
            {
                Refused(entry, string.Join("; ", errors.Select(e => e.Message)));
                return;
            }
        }
        var r = ObjectLoader.Load(_bpf, spec, entry.Program, out var obj, autocreate: []);
        if (!r.IsOk)
        {
            Refused(entry, r.ToString());
            return;
        }
        r = ObjectLoader.LoadXdpProgram(_bpf, obj!, entry.ProgramName, out var program);
        if (!r.IsOk)
        {
            Refused(entry, r.ToString());
            return;
        }
        _objects.Add((Path.GetFileName(entry.Program), obj!, iface.Name));
        var attached = new Attached(entry, iface, program!.Name, program, null);
        var previous = Previous(entry, iface);
        r = XdpAttachment.Attach(_bpf, dev, program!, entry.Mode, entry.Replace, previous?.LinkFd ?? -1, out int progFd, out int linkFd);
        if (!r.IsOk)
        {
            Refused(entry, r.ToString());
            return;
        }
        (attached.ProgFd, attached.LinkFd) = (progFd, linkFd);
        Record(attached, previous);
    }

    /// <summary>replace: an earlier entry's attachment on this interface is swapped (its link updated, or its program replaced).</summary>
    private Attached? Previous(XdpEntry entry, NetInterface iface) =>
        entry.Replace ? _attached.LastOrDefault(a => a.Interface == iface && !a.Detached && a.LinkFd >= 0 == (entry.Mode == XdpAttachMode.Link)) : null;

    /// <summary>
    /// Records an attachment. What it replaced (the link it updated, or the program attached by fd that the netlink
    /// attach swapped) ends now: the summary shows it so, and its own <c>detach_at</c> no longer touches the hook.
    /// </summary>
    private void Record(Attached attached, Attached? previous)
    {
        var entry = attached.Entry;
        if (entry.Replace)
        {
            var replaced = entry.Mode == XdpAttachMode.Link ? previous
                : _attached.LastOrDefault(a => a.Interface == attached.Interface && !a.Detached && a.LinkFd < 0);
            if (replaced is not null)
            {
                replaced.Detached = true;
                replaced.ReplacedAt = _bpf.Simulator.Now;
            }
        }
        _attached.Add(attached);
    }

    private void AttachConsumer(XdpEntry entry, ConsumerInfo consumer, NetInterface iface, NetDevice dev)
    {
        LoadedXdpConsumer? loaded;
        BpfResult r;
        try
        {
            r = XdpConsumerLoader.Load(_bpf, consumer, entry.Globals, GuardOrdinalBase + _consumers.Count, out loaded);
        }
        catch (ConsumerLoadException e)
        {
            if (_refuse)
            {
                throw new ScenarioRunException(e.Message, entry.Location); // the consumer's own code: said as it says it
            }
            _faults.Add(new ConsumerFault(consumer.Name, 0, "init", ConsumerFaultKind.Load, _bpf.Simulator.Now, e.Message));
            Note(entry, e.Message);
            return;
        }
        if (!r.IsOk)
        {
            Refused(entry, r.ToString());
            return;
        }
        _consumers.Add((loaded!, iface.Name));
        var guard = loaded!.Program.Guard;
        if (AbandonedCalls.TryGetValue(guard.Ordinal, out var abandoned))
        {
            guard.AbandonAt(abandoned.Call, abandoned.Message); // a replay: refuse the call an earlier attempt hung in
        }
        lock (_guards)
        {
            _guards.Add(guard);
        }
        var attached = new Attached(entry, iface, consumer.Name, null, loaded);
        // As a struct_ops consumer's: handled once the faulting call has returned to the device, at the same instant.
        loaded!.Program.Guard.Faulted += guard => _bpf.Simulator.Schedule(_bpf.Simulator.Now, () => Eject(attached, guard));
        var previous = Previous(entry, iface);
        r = XdpAttachment.AttachLoaded(_bpf, dev, loaded.ProgFd, entry.Mode, entry.Replace, previous?.LinkFd ?? -1, out int linkFd);
        if (!r.IsOk)
        {
            Refused(entry, r.ToString());
            return;
        }
        (attached.ProgFd, attached.LinkFd) = (loaded.ProgFd, linkFd);
        Record(attached, previous);
    }

    /// <summary>Detaches a C# program that faulted: later packets on the interface see no program.</summary>
    private void Eject(Attached attached, ConsumerGuard guard)
    {
        var fault = guard.Fault!;
        _faults.Add(fault);
        string detached = "it was not attached";
        if (!attached.Detached && attached.ProgFd >= 0)
        {
            var r = XdpAttachment.Detach(_bpf, attached.Interface.Device!, attached.ProgFd, attached.LinkFd, attached.Entry.Mode);
            attached.Detached = true;
            detached = r.IsOk ? "detached from " + attached.Interface.Name : $"detach from {attached.Interface.Name}: {r}";
        }
        _notes.Add($"{fault}: {guard.Consumer} ejected (the packet XDP_ABORTED); {detached}");
    }

    private void Detach(XdpEntry entry)
    {
        if (_pending.Remove(entry))
        {
            Note(entry, "its interface did not appear (its flow had not opened) before detach_at");
            return;
        }
        var attached = _attached.LastOrDefault(a => a.Entry == entry);
        if (attached is { ReplacedAt: not null, ProgFd: >= 0 })
        {
            // Replaced already: the hook runs the replacement; the loader closes this program's fd.
            _bpf.Close(attached.ProgFd);
            attached.ProgFd = -1;
            return;
        }
        if (attached is null || attached.Detached)
        {
            return; // never attached (noted then), or ejected
        }
        attached.Detached = true;
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
                    $"{a.Name} ({(a.Entry.Mode == XdpAttachMode.Link ? "link" : "prog")}, {a.Entry.At}–{((a.ReplacedAt ?? a.Entry.DetachAt) is { } d ? d.ToString() : "end")})").ToList();
                return new XdpInterfaceResult(i.Name, i.Device?.Ifindex ?? 0, programs)
                {
                    Pass = c.Pass, Drop = c.Drop, Tx = c.Tx, Redirect = c.Redirect, Aborted = c.Aborted, TcxDrop = c.TcxDrop,
                    RedirectFailed = c.RedirectFailed, NoRoute = c.NoRoute, TtlExpired = c.TtlExpired,
                };
            }).ToList();

    /// <summary>
    /// The maps of the XDP objects (not their global-data maps) and of the C# programs, dumped now, each with the
    /// interface its program was attached to and a <see cref="XdpMapResult.Key"/> that tells apart maps of one name.
    /// </summary>
    public IReadOnlyList<XdpMapResult> Maps() => XdpMapResult.Keyed(
        _objects.SelectMany(o => o.Object.Maps.Where(m => !m.Name.StartsWith('.')).Select(m => Dump(m.Map, o.Name, o.Interface)))
            .Concat(_consumers.SelectMany(c => c.Consumer.Maps.Select(m => Dump(m, c.Consumer.Info.Name, c.Interface)))).ToList());

    private static XdpMapResult Dump(BpfMap map, string owner, string iface) =>
        new(map.Name, map.Id, map.Type.ShortName(), owner, iface, BpftoolText.MapDump(map), BpftoolJson.MapDump(map));

    /// <summary>Program faults (each an XDP_ABORTED), and entries whose interface never appeared, for the notes.</summary>
    public IEnumerable<string> FaultNotes() =>
        _pending.Select(e => $"xdp {Path.GetFileName(e.Program)} on {e.Interface}{(e.Location is null ? "" : $" ({e.Location})")}: " +
                             "never attached: the interface did not appear (its flow never opened)").Concat(_attached.Where(a => a.Program is { Faults: > 0 }).Select(a =>
            $"xdp {a.Name} on {a.Interface.Name}: {a.Program!.Faults} run(s) faulted, each XDP_ABORTED; the last: {a.Program.LastFault!.Message}"));
}
