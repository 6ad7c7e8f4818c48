using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Scheduler.Workloads;
using BpfSim.Studies.Runs;
using BpfSim.Studies.Scenarios;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies;

/// <summary>
/// Scenarios as a library (DESIGN §7): load a scenario file or text, or take one built in code, check it as
/// <c>bpfsim validate</c> does, run it as <c>bpfsim run</c> does, and get typed results — what a user's own NUnit
/// test needs. One study holds one composition (the runtime, both subsystems, the built-in consumers and any consumer
/// assemblies given); it may run any number of scenarios, one after another or from several threads at once.
/// </summary>
/// <example>
/// <code>
/// var study = new Study();
/// var outcome = study.Run(study.Load("scenarios/dctcp_vs_cubic.yaml"));
/// Assert.That(outcome.Tcp!.Fairness.Jain, Is.GreaterThan(0.9));
/// </code>
/// </example>
public sealed class Study
{
    /// <param name="consumerAssemblies">Paths of consumer assemblies (C# struct_ops plug-ins) to offer beside the built-in ones.</param>
    /// <exception cref="ConsumerLoadException">An assembly cannot be loaded or holds no consumer.</exception>
    public Study(IEnumerable<string>? consumerAssemblies = null)
    {
        (Factory, Catalog) = Composition.Create(consumerAssemblies ?? []);
    }

    /// <summary>Makes the bpf(2) systems runs use.</summary>
    public BpfSimFactory Factory { get; }

    /// <summary>The consumers scenarios may name.</summary>
    public ConsumerCatalog Catalog { get; }

    /// <summary>Reads and checks a scenario file (null: the embedded default).</summary>
    /// <exception cref="ScenarioException">The file is missing or has problems; <see cref="ScenarioException.Errors"/> say where.</exception>
    public LoadedScenario Load(string? path) => ScenarioLoader.Load(path, Factory, Catalog);

    /// <summary>Checks a scenario given as YAML text; <paramref name="name"/> is what errors call it.</summary>
    /// <exception cref="ScenarioException">The text has problems.</exception>
    public LoadedScenario Parse(string yaml, string name = "(inline scenario)", string? baseDirectory = null) =>
        ScenarioLoader.LoadText(yaml, name, baseDirectory ?? Directory.GetCurrentDirectory(), Factory, Catalog);

    /// <summary>Checks a TCP scenario built in code.</summary>
    /// <exception cref="ScenarioException">A struct_ops action in it would be refused.</exception>
    public LoadedScenario FromSpec(TcpScenarioSpec spec, string name = "(scenario built in code)") =>
        ScenarioLoader.FromSpec(spec, name, Factory, Catalog);

    /// <summary>Checks a scheduler scenario built in code.</summary>
    /// <exception cref="ScenarioException">A struct_ops action in it would be refused.</exception>
    public LoadedScenario FromSpec(SchedScenarioSpec spec, string name = "(scenario built in code)") =>
        ScenarioLoader.FromSpec(spec, name, Factory, Catalog);

    /// <summary>Runs a checked scenario; never throws for what the run does (see <see cref="RunOutcome.Errors"/>).</summary>
    public RunOutcome Run(LoadedScenario scenario, RunSettings? settings = null) =>
        ScenarioRun.Execute(scenario, settings ?? new RunSettings(), Factory, Catalog);
}
