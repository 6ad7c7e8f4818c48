using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
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
    /// and the struct_ops actions at their times (<see cref="StructOpsCheck"/>). Every command that reads a scenario
    /// comes here, so all get the same checks.
    /// </summary>
    /// <exception cref="ScenarioException">The file is missing or has problems.</exception>
    public static (TcpScenarioSpec Spec, string Text, string Name) Load(string? path, BpfSimFactory factory, ConsumerCatalog catalog)
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
        var spec = new ScenarioParser(name, catalog, algorithms, baseDir).Parse(text);
        var errors = StructOpsCheck.Check(spec, factory, catalog, name);
        if (errors.Count > 0)
        {
            throw new ScenarioException(errors);
        }
        return (spec, text, name);
    }

    /// <summary>The algorithms a fresh kernel has before any struct_ops registration.</summary>
    public static IReadOnlyCollection<string> BuiltinAlgorithms(BpfSimFactory factory) =>
        Algorithms(factory.Create()).Select(a => a.Name).ToList();

    /// <summary>The congestion-control algorithms <paramref name="bpf"/> has registered, built-in and struct_ops.</summary>
    public static IEnumerable<TcpCongestionOps> Algorithms(BpfSystem bpf) =>
        bpf.StructOpsTypes.OfType<TcpCongestionOpsType>().SelectMany(t => t.Registry.Available);
}
