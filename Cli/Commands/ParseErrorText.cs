using System.Text.RegularExpressions;

namespace BpfSim.Cli.Commands;

/// <summary>
/// The command-line parser's messages in the user's terms: "Cannot parse argument '-1' for option '--seed' as expected
/// type 'System.Nullable`1[System.UInt64]'" names a .NET type, where a user needs to know what the option takes.
/// </summary>
public static partial class ParseErrorText
{
    [GeneratedRegex(@"^Cannot parse argument '(?<arg>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.?$")]
    private static partial Regex TypedArgument();

    /// <summary><paramref name="message"/>, with a failed conversion to a number said as what the option takes.</summary>
    public static string Friendly(string message)
    {
        var m = TypedArgument().Match(message);
        if (!m.Success)
        {
            return message;
        }
        string type = m.Groups["type"].Value;
        string takes = type.Contains("UInt64", StringComparison.Ordinal) ? $"a whole number from 0 to {ulong.MaxValue}"
            : type.Contains("UInt32", StringComparison.Ordinal) ? $"a whole number from 0 to {uint.MaxValue}"
            : type.Contains("Int32", StringComparison.Ordinal) ? "a whole number"
            : "a value of the kind its --help describes";
        return $"{m.Groups["option"].Value}: '{m.Groups["arg"].Value}' is not {takes}";
    }
}
