using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads;

/// <summary>
/// A scenario's struct_ops actions (register at <c>at</c>, link update for <c>replace</c>, unregister at
/// <c>unregister_at</c>) carried out on a simulated kernel. The scenario runner uses it during a run; the scenario
/// checker replays the same actions alone on a fresh kernel, so what the kernel would refuse at a time in the run
/// (EEXIST for a name taken, ENOLINK for a link already gone) is found before the run, at the entry's line.
/// </summary>
public sealed class StructOpsActions : IDisposable
{
    private readonly BpfSystem _bpf;
    private readonly ConsumerCatalog _catalog;
    private readonly List<string> _notes;
    private readonly Dictionary<string, LoadedStructOps> _loaded = new(StringComparer.Ordinal);
    private readonly Queue<Action> _waiting = new();
    private readonly HashSet<string> _ejected = new(StringComparer.Ordinal);
    private StructOpsEntry? _current;
    private bool _busy;
    private bool _disposed;

    /// <param name="notes">Where to note what happened without failing (as the run's notes).</param>
    public StructOpsActions(BpfSystem bpf, ConsumerCatalog catalog, List<string> notes)
    {
        _bpf = bpf;
        _catalog = catalog;
        _notes = notes;
    }

    private readonly List<(ConsumerFault Fault, StructOpsEntry Entry)> _loadFaults = [];

    private SimTime Now => _bpf.Simulator.Now;

    /// <summary>Consumers whose construction failed when they were to be registered, with the entry that asked.</summary>
    public IReadOnlyList<(ConsumerFault Fault, StructOpsEntry Entry)> LoadFaults => _loadFaults;

    /// <summary>
    /// Records that the consumer loaded as <paramref name="loaded"/> was ejected for a fault, so a later replace of
    /// its link is noted rather than failed.
    /// </summary>
    public void MarkEjected(LoadedStructOps loaded)
    {
        foreach (var (name, l) in _loaded)
        {
            if (l == loaded)
            {
                _ejected.Add(name);
            }
        }
    }

    /// <summary>What loaded <paramref name="map"/>, if one of these actions did.</summary>
    public LoadedStructOps? LoaderOf(StructOpsMap map) => _loaded.Values.FirstOrDefault(l => l.Map == map);

    /// <summary>The structops entry's program (object file or consumer) that loaded <paramref name="map"/>, if one did.</summary>
    public string? ProgramOf(StructOpsMap map)
    {
        foreach (var (program, loaded) in _loaded)
        {
            if (loaded.Map == map)
            {
                return program;
            }
        }
        return null;
    }

    /// <summary>Schedules every entry's actions at their times, in entry order (same-time actions run in that order).</summary>
    /// <remarks>An action throws <see cref="ScenarioRunException"/> out of the simulator when the kernel refuses it.</remarks>
    public void Schedule(IEnumerable<StructOpsEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (entry.At is { } at)
            {
                _bpf.Simulator.Schedule(at, () => Perform(() => Register(entry)));
            }
            if (entry.UnregisterAt is { } un)
            {
                _bpf.Simulator.Schedule(un, () => Perform(() => Unregister(entry)));
            }
        }
    }

    /// <summary>
    /// Closes the loader's fds of everything loaded (the maps stay while registered or referenced). Actions still
    /// pending are dropped: closing a link waits a grace period, which runs the event loop, and nothing scheduled
    /// for after the end may act then.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var loaded in _loaded.Values.ToList())
        {
            loaded.Dispose();
        }
    }

    /// <summary>
    /// Carries out an action as the one user-space process that performs them all would: one at a time. An
    /// unregistration or link update waits for a grace period, and while it waits the event loop runs whatever else
    /// is due — including the next action, which must queue behind it instead of interleaving with it.
    /// </summary>
    private void Perform(Action action)
    {
        if (_busy)
        {
            _waiting.Enqueue(action);
            return;
        }
        _busy = true;
        try
        {
            action();
            while (_waiting.TryDequeue(out var next))
            {
                next();
            }
        }
        finally
        {
            _busy = false;
            _waiting.Clear();
        }
    }

    /// <summary>The entry whose action is being carried out, if any (read by a watchdog on another thread).</summary>
    public StructOpsEntry? Current => Volatile.Read(ref _current);

    private void Register(StructOpsEntry entry)
    {
        if (_disposed)
        {
            return;
        }
        Volatile.Write(ref _current, entry);
        var consumers = ConsumersOf(entry);
        foreach (var info in consumers)
        {
            // Loaded again, a consumer is a second object with maps of its own, as a second `bpftool struct_ops
            // register` would load: the kernel registers it once the first has been unregistered, and refuses it
            // (EEXIST, or EBUSY for a second scheduler) while the first holds the name. The first's loader then goes,
            // as a process that exits closes its fds; what sockets hold stays theirs.
            _loaded.TryGetValue(info.Name, out var previous);
            RegisterOne(entry, info, consumers.Count);
            previous?.Dispose();
        }
    }

    private void RegisterOne(StructOpsEntry entry, ConsumerInfo info, int consumersInEntry, Action<LoadedStructOps>? prepare = null)
    {
        if (entry.Replace is { } ejected && _ejected.Contains(ejected))
        {
            // The scenario could not know: a note, not a failure of the run.
            _notes.Add($"t={Now}: {ejected} was ejected for a fault and its link detached, so {info.Name} has no link to update; not registered");
            return;
        }
        BpfResult r;
        LoadedStructOps? loaded;
        try
        {
            if (ConsumerGlobals.Check(info, entry.Globals) is [var bad, ..])
            {
                // The scenario's mistake, at the setting's own line.
                throw new ScenarioRunException($"t={Now}: can't load {info.Name}: {bad.Message}", bad.Global.Location ?? entry.Location);
            }
            r = ConsumerLoading.Load(_bpf, info, entry.Globals, out loaded);
        }
        catch (ConsumerLoadException e)
        {
            // The consumer's own code failed as it loaded: a fault of that consumer, not of the scenario.
            var fault = new ConsumerFault(info.Algorithm, 0, "constructor", ConsumerFaultKind.Load, Now, e.Message);
            _loadFaults.Add((fault, entry));
            _notes.Add($"{fault}: not registered");
            return;
        }
        if (r.IsOk)
        {
            if (entry.Replace is { } replaced)
            {
                r = consumersInEntry != 1
                    ? BpfResult.Fail(Errno.EINVAL, $"{entry.Program} holds {consumersInEntry} consumers; replace needs one (pick it with map:)").For(BpfCommand.LinkUpdate)
                    : _loaded.TryGetValue(replaced, out var current)
                        ? loaded!.ReplaceLinkOf(current)
                        : BpfResult.Fail(Errno.ENOLINK, $"{replaced} is not registered, so there is no link to update").For(BpfCommand.LinkUpdate);
            }
            else
            {
                prepare?.Invoke(loaded!);
                r = loaded!.Register();
            }
        }
        if (!r.IsOk)
        {
            loaded?.Dispose();
            throw new ScenarioRunException($"t={Now}: can't register struct_ops {info.Name}: {r.Reason}", entry.Location);
        }
        _loaded[info.Name] = loaded!;
    }

    /// <summary>
    /// Loads and registers <paramref name="entry"/>'s consumers again now, as a loader that restarts after an exit
    /// does: the previous load's fds are closed first, and <paramref name="prepare"/> may set struct_ops data members
    /// (<see cref="LoadedStructOps.SetPendingMember"/>) before the registration.
    /// </summary>
    /// <remarks>Throws <see cref="ScenarioRunException"/> out of the simulator when the kernel refuses the registration.</remarks>
    public void Reregister(StructOpsEntry entry, Action<LoadedStructOps>? prepare)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Perform(() =>
        {
            if (_disposed)
            {
                return;
            }
            Volatile.Write(ref _current, entry);
            var consumers = ConsumersOf(entry);
            foreach (var info in consumers)
            {
                if (_loaded.Remove(info.Name, out var previous))
                {
                    previous.Dispose();
                }
                _ejected.Remove(info.Name);
                RegisterOne(entry, info, consumers.Count, prepare);
            }
        });
    }

    private void Unregister(StructOpsEntry entry)
    {
        if (_disposed)
        {
            return;
        }
        foreach (var info in ConsumersOf(entry))
        {
            if (!_loaded.TryGetValue(info.Name, out var loaded))
            {
                _notes.Add($"t={Now}: {info.Name} was not registered, so not unregistered");
                continue;
            }
            if (loaded.Map.IsLinkMode && loaded.LinkFd < 0)
            {
                // Replaced by a link update: detaching means detaching the link, which its successor now holds.
                loaded = _loaded.Values.FirstOrDefault(l => l.LinkFd >= 0 && l.Map.StructOpsType == loaded.Map.StructOpsType && l.Name == loaded.Name) ?? loaded;
            }
            var r = loaded.Unregister();
            if (!r.IsOk)
            {
                _notes.Add($"t={Now}: unregister {info.Name}: {r.Reason}");
            }
        }
    }

    /// <summary>
    /// The consumers <paramref name="entry"/> loads: those the scenario reader resolved, else <see cref="StructOpsEntry.Program"/>
    /// by name or every consumer of the assembly at that path.
    /// </summary>
    private IReadOnlyList<ConsumerInfo> ConsumersOf(StructOpsEntry entry)
    {
        if (entry.Consumers.Count > 0)
        {
            return entry.Consumers.Select(name => _catalog.Find(name)
                ?? throw new ScenarioRunException($"consumer {name} is not in the catalog", entry.Location)).ToList();
        }
        return _catalog.Find(entry.Program) is { } byName ? [byName] : ConsumerFiles.LoadInto(_catalog, entry.Program);
    }
}
