using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Scheduler.Workloads;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Cli.Scenarios;

/// <summary>Finds, reads and checks a scenario: a file, or the embedded default.</summary>
public static class ScenarioLoader
{
    public const string DefaultName = "(default scenario)";

    /// <summary>The embedded default scenario's text.</summary>
    public static string DefaultText()
    {
        using var stream = typeof(ScenarioLoader).Assembly.GetManifestResourceStream("BpfSim.Cli.default.yaml")!;
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>
    /// Reads <paramref name="path"/> (or the default when null) and checks it against what this build offers: the
    /// text (<see cref="ScenarioText"/>), the YAML (<see cref="YamlGuard"/>), every key (<see cref="ScenarioParser"/>),
    /// and the struct_ops actions at their times on a fresh kernel (<see cref="StructOpsCheck"/>; for a scheduler
    /// scenario, its machine without tasks). Every command that
    /// reads a scenario comes here, so all get the same checks.
    /// </summary>
    /// <exception cref="ScenarioException">The file is missing or has problems.</exception>
    public static LoadedScenario Load(string? path, BpfSimFactory factory, ConsumerCatalog catalog)
    {
        string text, name, baseDir;
        if (path is null)
        {
            (text, name, baseDir) = (DefaultText(), DefaultName, Directory.GetCurrentDirectory());
        }
        else
        {
            (text, name, baseDir) = (ScenarioText.Read(path, path), path, Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        var algorithms = BuiltinAlgorithms(factory);
        var parser = new ScenarioParser(name, catalog, algorithms, baseDir);
        var spec = parser.ParseAny(text);
        if (spec is SchedScenarioSpec sched)
        {
            var schedErrors = StructOpsCheck.Check(sched, factory, catalog, name);
            if (schedErrors.Count > 0)
            {
                throw new ScenarioException(schedErrors);
            }
            return new LoadedScenario(null, sched, text, name, parser.Notes);
        }
        var tcp = (TcpScenarioSpec)spec;
        var errors = StructOpsCheck.Check(tcp, factory, catalog, name);
        if (errors.Count > 0)
        {
            throw new ScenarioException(errors);
        }
        return new LoadedScenario(tcp, null, text, name, parser.Notes);
    }

    /// <summary>The algorithms a fresh kernel has before any struct_ops registration.</summary>
    public static IReadOnlyCollection<string> BuiltinAlgorithms(BpfSimFactory factory) =>
        Algorithms(factory.Create()).Select(a => a.Name).ToList();

    /// <summary>The congestion-control algorithms <paramref name="bpf"/> has registered, built-in and struct_ops.</summary>
    public static IEnumerable<TcpCongestionOps> Algorithms(BpfSystem bpf) =>
        bpf.StructOpsTypes.OfType<TcpCongestionOpsType>().SelectMany(t => t.Registry.Available);
}
