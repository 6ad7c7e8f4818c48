using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// Writes a grid value as YAML text that reads back as the same value wherever it is put in a scenario (a block or a
/// flow context): a plain scalar when it is safe to be one, double-quoted otherwise, lists and mappings in flow style.
/// </summary>
internal static class GridValueText
{
    /// <summary>The value as YAML text.</summary>
    public static string Yaml(YamlNode node) => node switch
    {
        YamlScalarNode s => Scalar(s),
        YamlSequenceNode list => "[" + string.Join(", ", list.Children.Select(Yaml)) + "]",
        YamlMappingNode map => "{" + string.Join(", ", map.Children.Select(kv => $"{Yaml(kv.Key)}: {Yaml(kv.Value)}")) + "}",
        _ => "null",
    };

    /// <summary>The value as a table cell: a scalar's value, a list's or mapping's flow text.</summary>
    public static string Cell(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : Yaml(node);

    private static string Scalar(YamlScalarNode s)
    {
        string value = s.Value ?? "";
        if (s.Style is ScalarStyle.Plain or ScalarStyle.Any && IsSafePlain(value))
        {
            return value;
        }
        if (s.Style is ScalarStyle.Plain or ScalarStyle.Any && value.Length == 0)
        {
            return "null"; // an empty plain value is YAML's null
        }
        var quoted = new StringBuilder("\"");
        foreach (char c in value)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => $"\\u{(int)c:X4}",
                _ => c.ToString(CultureInfo.InvariantCulture),
            });
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>Letters, digits and <c>_ . / + - %</c> (and inner spaces): the same value in block and flow contexts.</summary>
    private static bool IsSafePlain(string value) =>
        value.Length > 0 && value[0] is not (' ' or '-' or '%') && value[^1] != ' ' &&
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/' or '+' or '-' or ' ' or '%') ||
        value.Length > 1 && value[0] == '-' && value.Skip(1).All(c => char.IsAsciiDigit(c) || c == '.');
}
