using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>Finds, reads and checks a scenario: a file, or the embedded default.</summary>
public static class ScenarioLoader
{
    public const string DefaultName = "(default scenario)";

    /// <summary>The embedded default scenario's text.</summary>
    public static string DefaultText()
    {
        using var stream = typeof(ScenarioLoader).Assembly.GetManifestResourceStream("BpfSim.Studies.default.yaml")!;
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>
    /// Reads <paramref name="path"/> (or the default when null) and checks it against what this build offers: the
    /// text (<see cref="ScenarioText"/>), the YAML (<see cref="YamlGuard"/>), every key (<see cref="ScenarioParser"/>),
    /// and the struct_ops actions at their times on a fresh kernel (<see cref="StructOpsCheck"/>; for a scheduler
    /// scenario, its machine without tasks), and the xdp: entries the same way (<see cref="XdpCheck"/>). Every command that
    /// reads a scenario comes here, so all get the same checks.
    /// </summary>
    /// <exception cref="ScenarioException">The file is missing or has problems.</exception>
    public static LoadedScenario Load(string? path, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        if (path is null)
        {
            return LoadText(DefaultText(), DefaultName, Directory.GetCurrentDirectory(), factory, catalog);
        }
        return LoadText(ScenarioText.Read(path, path), path, Path.GetDirectoryName(Path.GetFullPath(path))!, factory, catalog);
    }

    /// <summary>
    /// Checks a scenario's text as <see cref="Load"/> checks a file's: <paramref name="name"/> is what messages call it
    /// (file:line:column), <paramref name="baseDirectory"/> where its relative paths (consumers, rt-app files) resolve.
    /// </summary>
    /// <exception cref="ScenarioException">The text has problems.</exception>
    public static LoadedScenario LoadText(string text, string name, string baseDirectory, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        var algorithms = BuiltinAlgorithms(factory);
        var parser = new ScenarioParser(name, catalog, algorithms, baseDirectory);
        var spec = parser.ParseAny(text);
        return Checked(spec, text, name, parser.Notes, factory, catalog);
    }

    /// <summary>
    /// Checks a scenario built in code (records rather than YAML): its struct_ops actions at their times, as for a file.
    /// </summary>
    /// <exception cref="ScenarioException">An action would be refused.</exception>
    public static LoadedScenario FromSpec(object spec, string name, BpfSimFactory factory, ConsumerCatalog catalog) =>
        spec is TcpScenarioSpec or SchedScenarioSpec
            ? Checked(spec, $"# {name}: built in code\n", name, [], factory, catalog)
            : throw new ArgumentException($"a scenario is a {nameof(TcpScenarioSpec)} or a {nameof(SchedScenarioSpec)}, not {spec.GetType().Name}", nameof(spec));

    private static LoadedScenario Checked(object spec, string text, string name, IReadOnlyList<string> notes, BpfSimFactory factory,
        ConsumerCatalog catalog)
    {
        if (spec is SchedScenarioSpec sched)
        {
            var schedErrors = StructOpsCheck.Check(sched, factory, catalog, name);
            if (schedErrors.Count > 0)
            {
                throw new ScenarioException(schedErrors);
            }
            return new LoadedScenario(null, sched, text, name, notes);
        }
        var tcp = (TcpScenarioSpec)spec;
        var errors = StructOpsCheck.Check(tcp, factory, catalog, name).Concat(XdpCheck.Check(tcp, factory, name, out var maps)).ToList();
        if (errors.Count > 0)
        {
            throw new ScenarioException(errors);
        }
        return new LoadedScenario(tcp, null, text, name, notes)
        {
            XdpMapNames = maps.SelectMany(m => (string[])[m.Name, m.Key]).Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>The algorithms a fresh kernel has before any struct_ops registration.</summary>
    public static IReadOnlyCollection<string> BuiltinAlgorithms(BpfSimFactory factory) =>
        Algorithms(factory.Create()).Select(a => a.Name).ToList();

    /// <summary>The congestion-control algorithms <paramref name="bpf"/> has registered, built-in and struct_ops.</summary>
    public static IEnumerable<TcpCongestionOps> Algorithms(BpfSystem bpf) =>
        bpf.StructOpsTypes.OfType<TcpCongestionOpsType>().SelectMany(t => t.Registry.Available);
}
