using System.Collections.Immutable;
using System.Reflection;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// A structops entry's <c>globals:</c>: checks them against a consumer and applies them before it loads. For a BPF
/// object, each names a global variable of a data section (<c>.rodata</c>, <c>.data</c>, <c>.bss</c>, or a
/// <c>.data.*</c>/<c>.rodata.*</c> one) by its BTF name, and the value must fit the variable's BTF type — what a
/// libbpf skeleton lets user space write before <c>bpf_object__load</c>. For a C# consumer, each names a
/// <see cref="StructOpsOptionAttribute"/> option. <see cref="Check"/> is what a scenario checker calls; the loader
/// (<see cref="ConsumerLoading"/>) applies the same rules, so a setting that passes the check loads.
/// </summary>
public static partial class ConsumerGlobals
{
    /// <summary>What is wrong with <paramref name="globals"/> for <paramref name="info"/>; empty when all apply.</summary>
    /// <remarks>Unknown name, a static variable, a value that does not parse or does not fit the type, a name given twice.</remarks>
    public static IReadOnlyList<ConsumerGlobalError> Check(ConsumerInfo info, IReadOnlyList<ConsumerGlobal> globals)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(globals);
        if (globals.Count == 0)
        {
            return [];
        }
        if (info.Object is { } spec)
        {
            Apply(spec, globals, out var errors);
            return errors;
        }
        return info.ClrType is { } type ? CheckOptions(type, globals) : [];
    }

    /// <summary>The names <paramref name="info"/> accepts in <c>globals:</c>, each with its type as C or C# writes it.</summary>
    public static IReadOnlyList<(string Name, string Type)> Describe(ConsumerInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Object is { } spec)
        {
            return Variables(spec).Where(v => v.Variable.IsGlobal)
                .Select(v => (v.Variable.Name, TypeName(spec.Btf, v.Variable.TypeId))).ToList();
        }
        return info.ClrType is { } type ? Options(type).Select(o => (o.Name, OptionType(o.Member).Name)).ToList() : [];
    }

    /// <summary>
    /// <paramref name="spec"/> with <paramref name="globals"/> written into its data sections' initial bytes (a
    /// <c>.bss</c> gets bytes of its own), or <paramref name="spec"/> itself when there are errors or no settings.
    /// </summary>
    public static ObjectSpec Apply(ObjectSpec spec, IReadOnlyList<ConsumerGlobal> globals, out IReadOnlyList<ConsumerGlobalError> errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(globals);
        var found = new List<ConsumerGlobalError>();
        errors = found;
        if (globals.Count == 0)
        {
            return spec;
        }
        var sections = spec.DataSections.ToDictionary(d => d.Name, d => d.IsBss ? new byte[d.Size] : d.Bytes.ToArray(), StringComparer.Ordinal);
        var variables = Variables(spec);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in globals)
        {
            if (!seen.Add(g.Name))
            {
                found.Add(new(g, $"global '{g.Name}' is set twice"));
                continue;
            }
            var matches = variables.Where(v => v.Variable.Name == g.Name).ToList();
            if (matches.Count == 0)
            {
                var names = variables.Where(v => v.Variable.IsGlobal).Select(v => v.Variable.Name).ToList();
                found.Add(new(g, $"{spec.Name} has no global variable '{g.Name}' (it has: {(names.Count == 0 ? "none" : string.Join(", ", names))})"));
                continue;
            }
            var (section, variable) = matches[0];
            if (!variable.IsGlobal)
            {
                found.Add(new(g, $"'{g.Name}' in {section} of {spec.Name} is static: user space cannot set it (a skeleton shows only global variables)"));
                continue;
            }
            var bytes = sections[section].AsSpan((int)variable.Offset, (int)variable.Size);
            if (Encode(spec.Btf, variable.TypeId, g.Value, bytes) is { } problem)
            {
                found.Add(new(g, $"{section} variable '{g.Name}' ({TypeName(spec.Btf, variable.TypeId)}): {problem}"));
            }
        }
        if (found.Count > 0)
        {
            return spec;
        }
        var data = spec.DataSections.Select(d => d with { Bytes = ImmutableArray.Create(sections[d.Name]) }).ToList();
        return spec with { DataSections = data };
    }

    /// <summary>Sets <paramref name="globals"/> on a freshly constructed C# consumer.</summary>
    /// <returns>The errors; nothing is set unless all apply.</returns>
    public static IReadOnlyList<ConsumerGlobalError> Apply(object consumer, IReadOnlyList<ConsumerGlobal> globals)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(globals);
        var errors = CheckOptions(consumer.GetType(), globals);
        if (errors.Count > 0)
        {
            return errors;
        }
        var options = Options(consumer.GetType());
        foreach (var g in globals)
        {
            var option = options.First(o => o.Name == g.Name);
            TryConvert(OptionType(option.Member), g.Value, out object? value, out _);
            switch (option.Member)
            {
                case FieldInfo f:
                    f.SetValue(consumer, value);
                    break;
                case PropertyInfo p:
                    p.SetValue(consumer, value);
                    break;
            }
        }
        return [];
    }

    /// <summary>Every variable of every data section (the first section wins a name two of them share).</summary>
    private static List<(string Section, ObjectVariable Variable)> Variables(ObjectSpec spec) =>
        spec.DataSections.SelectMany(d => d.Variables.Select(v => (d.Name, v))).ToList();
}
