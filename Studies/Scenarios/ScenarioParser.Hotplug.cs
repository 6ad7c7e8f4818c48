using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// <c>hotplug:</c> of a scheduler scenario: CPUs taken offline and brought back at given times, checked as the
/// kernel's cpu_down / cpu_up would take them (kernel/cpu.c): the CPU must exist, the last online CPU cannot go
/// offline (EBUSY), and an event that would change nothing (a CPU already in that state) is refused as a mistake.
/// </summary>
public sealed partial class ScenarioParser
{
    private List<HotplugSpec> ParseHotplug(YamlNode node, SchedScenarioSpec scenario)
    {
        var list = new List<(HotplugSpec Spec, YamlNode Node)>();
        if (node is not YamlSequenceNode seq)
        {
            Error(node, "hotplug must be a list of { at: TIME, cpu: N, online: false|true }, e.g. - { at: 2s, cpu: 3, online: false }");
            return [];
        }
        int cpus = scenario.Cpus.Count;
        foreach (var item in seq)
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "each hotplug event must be a mapping such as { at: 2s, cpu: 3, online: false }");
                continue;
            }
            var keys = Keys(map, "a hotplug event", "at", "cpu", "online");
            var at = Time(keys, "at");
            int? cpu = Integer(keys, "cpu", 0);
            bool? online = Bool(keys, "online");
            foreach (string k in new[] { "at", "cpu", "online" }.Where(k => !keys.ContainsKey(k)))
            {
                Error(map, $"a hotplug event needs {k} (e.g. {{ at: 2s, cpu: 3, online: false }})");
            }
            if (at is { } t && t >= scenario.Duration)
            {
                Error(keys["at"], $"at ({t}) is not before the end of the run ({scenario.Duration}): the event would never happen");
                continue;
            }
            if (cpu is { } c && c >= cpus)
            {
                Error(keys["cpu"], $"cpu {c} does not exist: the machine has {cpus} CPUs (0 … {cpus - 1})");
                continue;
            }
            if (at is null || cpu is null || online is null)
            {
                continue;
            }
            list.Add((new HotplugSpec { At = at.Value, Cpu = cpu.Value, Online = online.Value, Location = $"{_file}:{map.Start.Line}:{map.Start.Column}" }, map));
        }
        // In time order, same-time events as written (a stable sort), replayed against the CPUs' states.
        var ordered = list.Select((e, i) => (e.Spec, e.Node, Index: i)).OrderBy(e => e.Spec.At).ThenBy(e => e.Index).ToList();
        var offlineSince = new SimTime?[cpus];
        int onlineCount = cpus;
        foreach (var (spec, at, _) in ordered)
        {
            if (spec.Online)
            {
                if (offlineSince[spec.Cpu] is null)
                {
                    Error(at, $"cpu {spec.Cpu} is already online at {spec.At}: bringing it online would do nothing");
                    continue;
                }
                offlineSince[spec.Cpu] = null;
                onlineCount++;
                continue;
            }
            if (offlineSince[spec.Cpu] is { } since)
            {
                Error(at, $"cpu {spec.Cpu} is already offline at {spec.At} (since {since}): taking it offline would do nothing");
                continue;
            }
            if (onlineCount == 1)
            {
                Error(at, $"cpu {spec.Cpu} is the last online CPU at {spec.At}: the kernel refuses to take it offline (cpu_down: EBUSY)");
                continue;
            }
            if (spec.Cpu == 0 && scenario.Cpus.NohzFull.Count > 0)
            {
                Error(at, "cpu 0 does the timekeeping for the nohz_full CPUs: the kernel refuses to take it offline (tick_nohz_cpu_down: EBUSY)");
                continue;
            }
            offlineSince[spec.Cpu] = spec.At;
            onlineCount--;
        }
        return ordered.Select(e => e.Spec).ToList();
    }
}
