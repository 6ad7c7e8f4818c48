using System.Globalization;
using System.Reflection;

namespace BpfSim.Core.Bpf.Consumers;

public static partial class ConsumerGlobals
{
    /// <summary>The public fields and settable properties of <paramref name="type"/> marked [StructOpsOption], by name.</summary>
    private static List<(string Name, MemberInfo Member)> Options(Type type)
    {
        var found = new List<(string, MemberInfo)>();
        foreach (var member in type.GetMembers(BindingFlags.Instance | BindingFlags.Public))
        {
            if (member.GetCustomAttribute<StructOpsOptionAttribute>() is { } a
                && (member is FieldInfo { IsInitOnly: false } || member is PropertyInfo { CanWrite: true }))
            {
                found.Add((a.Name, member));
            }
        }
        return found.OrderBy(o => o.Item1, StringComparer.Ordinal).ToList();
    }

    private static Type OptionType(MemberInfo member) => member switch
    {
        FieldInfo f => f.FieldType,
        PropertyInfo p => p.PropertyType,
        _ => throw new ArgumentException("not a field or property", nameof(member)),
    };

    private static List<ConsumerGlobalError> CheckOptions(Type type, IReadOnlyList<ConsumerGlobal> globals)
    {
        var options = Options(type);
        var errors = new List<ConsumerGlobalError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string consumer = StructOpsLoader.Describe(type)?.Name ?? type.Name;
        foreach (var g in globals)
        {
            if (!seen.Add(g.Name))
            {
                errors.Add(new(g, $"global '{g.Name}' is set twice"));
                continue;
            }
            var option = options.FirstOrDefault(o => o.Name == g.Name);
            if (option.Member is null)
            {
                errors.Add(new(g, $"{consumer} has no option '{g.Name}' (it has: {(options.Count == 0 ? "none" : string.Join(", ", options.Select(o => o.Name)))})"));
                continue;
            }
            if (!TryConvert(OptionType(option.Member), g.Value, out _, out string problem))
            {
                errors.Add(new(g, $"option '{g.Name}' of {consumer} ({OptionType(option.Member).Name}): {problem}"));
            }
        }
        return errors;
    }

    /// <summary>The scenario's text as a value of <paramref name="type"/>, with the BPF side's range rules for integers.</summary>
    private static bool TryConvert(Type type, string text, out object? value, out string problem)
    {
        value = null;
        problem = "";
        if (type == typeof(string))
        {
            value = text;
            return true;
        }
        if (type == typeof(bool))
        {
            bool ok = TryParseBool(text, out bool b);
            value = b;
            problem = ok ? "" : $"'{text}' is not a bool (true or false)";
            return ok;
        }
        if (type == typeof(double))
        {
            bool ok = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d);
            value = d;
            problem = ok ? "" : $"'{text}' is not a number";
            return ok;
        }
        if (type.IsEnum)
        {
            if (Enum.GetNames(type).Contains(text, StringComparer.Ordinal))
            {
                value = Enum.Parse(type, text);
                return true;
            }
            if (TryInteger(Enum.GetUnderlyingType(type), text, out object? raw, out problem))
            {
                value = Enum.ToObject(type, raw!);
                return true;
            }
            problem = $"'{text}' is neither a member of {type.Name} ({string.Join(", ", Enum.GetNames(type))}) nor a number";
            return false;
        }
        if (TryInteger(type, text, out value, out problem))
        {
            return true;
        }
        if (problem.Length == 0)
        {
            problem = $"options of type {type.Name} are not supported (bool, integers, enums, string, double are)";
        }
        return false;
    }

    private static bool TryInteger(Type type, string text, out object? value, out string problem)
    {
        value = null;
        problem = "";
        (int size, bool signed) = Type.GetTypeCode(type) switch
        {
            TypeCode.SByte => (1, true),
            TypeCode.Byte => (1, false),
            TypeCode.Int16 => (2, true),
            TypeCode.UInt16 => (2, false),
            TypeCode.Int32 => (4, true),
            TypeCode.UInt32 => (4, false),
            TypeCode.Int64 => (8, true),
            TypeCode.UInt64 => (8, false),
            _ => (0, false),
        };
        if (size == 0)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[8];
        if (WriteInteger(text, size, signed, bytes[..size]) is { } error)
        {
            problem = error;
            return false;
        }
        TryParseInteger(text, out Int128 v);
        value = Convert.ChangeType(signed ? (object)(long)v : (ulong)v, type, CultureInfo.InvariantCulture);
        return true;
    }
}
