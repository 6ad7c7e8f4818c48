using BpfSim.Scheduler.Workloads;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>Reading a distribution value (<see cref="DistributionText"/>), its errors at the column of the faulty argument.</summary>
public sealed partial class ScenarioParser
{
    private Distribution? Distribution(YamlNode node, string key)
    {
        if (Scalar(node, key) is not { } text)
        {
            return null;
        }
        var joined = node is YamlScalarNode sn && _joined.TryGetValue(sn, out var j) ? j : default;
        text = joined.Text ?? text;
        if (DistributionText.TryParse(text, s_maxTime.Nanoseconds, out var d, out var error, out int offset))
        {
            return d;
        }
        // Point at the argument itself: in the part of a split flow value that holds it, or in a one-line scalar.
        var at = node;
        if (joined.Parts is { } parts)
        {
            var part = parts.Last(p => p.Offset <= offset);
            (at, offset) = (part.Part, offset - part.Offset);
        }
        var s = (YamlScalarNode)at;
        string own = s.Value ?? "";
        int shift = s.Style switch
        {
            ScalarStyle.Plain when !own.Contains('\n') => offset,
            ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted when !own.Contains('\n') && !own.Contains('\'') && !own.Contains('\\') => offset + 1,
            _ => 0,
        };
        if (offset > own.Length + 1)
        {
            shift = 0;
        }
        _errors.Add(new ScenarioError(_file, (int)at.Start.Line, (int)at.Start.Column + shift, $"{key}: {error}"));
        return null;
    }
}
