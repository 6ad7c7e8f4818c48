using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Workloads;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Ext;

namespace BpfSim.Scheduler.Workloads;

/// <summary>
/// CPU hotplug in a run: the scenario's <c>hotplug:</c> events carried out at their times (as writes to
/// /sys/devices/system/cpu/cpuN/online), and the restart of a scheduler whose entry says <c>restart_on_exit</c> when it
/// exits with SCX_ECODE_ACT_RESTART — what tools/sched_ext/scx_simple.c does (<c>goto restart</c>, reopening the skeleton
/// with hotplug_seq = /sys/kernel/sched_ext/hotplug_seq). The example polls for the exit once a second; the simulated
/// loader restarts at the instant its link is destroyed, or a second later when it already restarted at that instant.
/// </summary>
public sealed partial class SchedScenarioRunner
{
    private readonly List<HotplugEventResult> _hotplugResults = [];
    private int _restarts;
    private readonly Dictionary<StructOpsEntry, long> _lastRestartNs = new(ReferenceEqualityComparer.Instance);

    private void ScheduleHotplug()
    {
        var sim = _bpf.Simulator;
        foreach (var h in _spec.Hotplug)
        {
            sim.Schedule(h.At, () => DoHotplug(h));
        }
        if (_spec.StructOps.Any(e => e.RestartOnExit))
        {
            _ext.SchedulerExited += OnExitedForRestart;
        }
    }

    private void DoHotplug(HotplugSpec h)
    {
        string way = h.Online ? "online" : "offline";
        var ops = _ext.Ops;
        bool hasOp = ops is not null && (h.Online ? ops.CpuOnline : ops.CpuOffline) is not null;
        int before = Kernel.HotplugEvents.Count;
        int r = Kernel.SetCpuOnline(h.Cpu, h.Online);
        if (r < 0)
        {
            throw new ScenarioRunException($"t={_bpf.Simulator.Now}: cpu {h.Cpu} {way}: " +
                (r != -16 ? $"error {r}"
                    : h.Cpu == 0 && !Kernel.NohzFull.IsEmpty ? "EBUSY (CPU 0 keeps the timekeeping for the nohz_full CPUs)"
                    : "EBUSY (it is the last online CPU)"), h.Location);
        }
        if (Kernel.HotplugEvents.Count == before)
        {
            _notes.Add($"t={_bpf.Simulator.Now}: cpu {h.Cpu} is already {way}; nothing done");
            return;
        }
        var e = Kernel.HotplugEvents[^1];
        string handled = ops is null ? "no sched_ext scheduler"
            : hasOp ? $"{ops.Name}: ops.cpu_{way}"
            : $"{ops.Name}: exit (SCX_EXIT_UNREG_KERN, SCX_ECODE_ACT_RESTART | SCX_ECODE_RSN_HOTPLUG)";
        _hotplugResults.Add(new HotplugEventResult(e.TimeNs / 1e9, e.Cpu, e.Online, e.Seq, e.TasksMigrated, e.AffinityBroken, handled));
    }

    private void OnExitedForRestart(ScxExitInfo info, StructOpsMap? map)
    {
        if (map is null || (info.ExitCode & ScxExitCodes.ActRestart) == 0 || _actions.ProgramOf(map) is not { } name)
        {
            return;
        }
        var entry = _spec.StructOps.FirstOrDefault(e => e.RestartOnExit && (e.Consumers.Contains(name) || e.Program == name));
        if (entry is null)
        {
            return;
        }
        // After the loader has destroyed its link (DetachExited, scheduled first at this instant). A scheduler that
        // exits again at the instant it was restarted (in ops.init, say) is restarted when the loader's poll loop
        // would next see it — scx_simple.c's main loop sleeps 1 s — so simulated time moves on instead of the run
        // restarting it forever at one instant.
        var sim = _bpf.Simulator;
        var at = _lastRestartNs.TryGetValue(entry, out long last) && last == sim.Now.Nanoseconds
            ? sim.Now + SimTime.FromSeconds(1)
            : sim.Now;
        sim.Schedule(at, () => Restart(entry, name));
    }

    private void Restart(StructOpsEntry entry, string name)
    {
        var now = _bpf.Simulator.Now;
        if (entry.UnregisterAt is { } un && now >= un)
        {
            return;
        }
        long seq = _ext.HotplugSeq;
        _restarts++;
        _lastRestartNs[entry] = now.Nanoseconds;
        _notes.Add($"t={now}: {name} exited with SCX_ECODE_ACT_RESTART; restart_on_exit loads and registers it again with hotplug_seq {seq}");
        _actions.Reregister(entry, loaded => loaded.SetPendingMember("hotplug_seq", (ulong)seq));
    }

    /// <summary>The summary's <c>hotplug</c> section, or null for a run without hotplug events.</summary>
    private HotplugResult? HotplugSummary() => _spec.Hotplug.Count == 0 && Kernel.HotplugEvents.Count == 0
        ? null
        : new HotplugResult(_hotplugResults, Kernel.HotplugMigrations, Kernel.AffinityBroken, _ext.HotplugSeq, _restarts,
            Enumerable.Range(0, Kernel.NrCpus).Select(cpu => Math.Round(Kernel.OfflineNs(cpu) / 1e9, 6)).ToList());

    /// <summary>The struct_ops/exit timeline with the kernel's hotplug messages merged in by time.</summary>
    private IReadOnlyList<(long TimeNs, string Text)> MarkersWithHotplug()
    {
        if (Kernel.HotplugLog.Count == 0)
        {
            return _ext.Markers;
        }
        return _ext.Markers.Select((m, i) => (m, Order: (long)i)).Concat(Kernel.HotplugLog.Select((m, i) => (m, Order: (long)int.MaxValue + i)))
            .OrderBy(x => x.m.TimeNs).ThenBy(x => x.Order).Select(x => x.m).ToList();
    }
}
