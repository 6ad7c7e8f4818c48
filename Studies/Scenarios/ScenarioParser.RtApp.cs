using BpfSim.Scheduler.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>A <c>tasks:</c> entry <c>{ rt_app: path/to/workload.json }</c>: rt-app's threads, imported (<see cref="RtAppImport"/>).</summary>
public sealed partial class ScenarioParser
{
    private IReadOnlyList<TaskGroupSpec> ParseRtAppEntry(YamlMappingNode map, SchedScenarioSpec scenario)
    {
        var keys = Keys(map, "an rt_app entry (the JSON file holds the tasks)", "rt_app", "policy");
        bool? ext = Policy(keys);
        if (!keys.TryGetValue("rt_app", out var pathNode) || Scalar(pathNode, "rt_app") is not { } path)
        {
            return [];
        }
        if (string.IsNullOrWhiteSpace(path))
        {
            Error(pathNode, "rt_app needs the path of an rt-app JSON file (relative to this scenario's folder)");
            return [];
        }
        // Named in messages as the scenario names it, relative to the scenario's folder as written.
        string display = Path.Combine(Path.GetDirectoryName(_file) ?? "", path);
        string full = Path.GetFullPath(Path.Combine(_baseDirectory, path));
        if (!File.Exists(full))
        {
            Error(pathNode, $"rt_app: {path}: {(Directory.Exists(full) ? "is a directory, not an rt-app JSON file" : $"no such file ({full})")}");
            return [];
        }
        try
        {
            var (groups, notes) = RtAppImport.Import(ScenarioText.Read(full, display), display, scenario.Cpus.Count, ext);
            _notes.AddRange(notes);
            return groups;
        }
        catch (ScenarioException e)
        {
            _errors.AddRange(e.Errors);
            return [];
        }
    }
}
