using BpfSim.Core.Bpf.Consumers;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>A structops entry's <c>globals:</c>, a mapping of names to single values (DESIGN §5).</summary>
public sealed partial class ScenarioParser
{
    /// <summary>
    /// Reads <c>globals:</c> (name → scalar), each located at its value, and checks them against every consumer of the
    /// entry (<see cref="ConsumerGlobals.Check"/>: an object's global variables by BTF name and type, a C# consumer's
    /// [StructOpsOption]s), so an unknown name or a value that does not fit is an error at its line.
    /// </summary>
    private List<ConsumerGlobal> ParseGlobals(YamlNode node, IReadOnlyList<ConsumerInfo> consumers)
    {
        var list = new List<ConsumerGlobal>();
        if (node is not YamlMappingNode map)
        {
            Error(node, "globals must be a mapping of names to values, e.g. { fifo_sched: true, slice_ns: 5000000 }");
            return list;
        }
        foreach (var (k, v) in map.Children)
        {
            string name = ((YamlScalarNode)k).Value ?? "";
            if (name.Length == 0)
            {
                Error(k, "a global's name is empty");
                continue;
            }
            if (list.Exists(g => g.Name == name))
            {
                Error(k, $"global '{name}' is set twice");
                continue;
            }
            if (Scalar(v, $"global '{name}'") is { } value)
            {
                list.Add(new ConsumerGlobal(name, value, $"{_file}:{v.Start.Line}:{v.Start.Column}"));
            }
        }
        foreach (var consumer in consumers)
        {
            foreach (var error in ConsumerGlobals.Check(consumer, list))
            {
                _errors.Add(StructOpsCheck.At(error.Global.Location, _file, error.Message));
            }
        }
        return list;
    }
}
