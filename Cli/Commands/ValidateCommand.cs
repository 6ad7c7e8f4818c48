using System.CommandLine;
using BpfSim.Studies.Scenarios;

namespace BpfSim.Cli.Commands;

/// <summary><c>bpfsim validate SCENARIO.yaml</c>: every check of <c>run</c>, nothing run; prints the run's work estimate.</summary>
public static class ValidateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<string>("scenario") { Description = "Scenario file (YAML)" };
        var command = new Command("validate", "Check a scenario file without running it") { file };
        command.SetAction(parse =>
        {
            var (factory, catalog) = Composition.Create([]);
            try
            {
                var scenario = ScenarioLoader.Load(parse.GetValue(file)!, factory, catalog);
                var estimate = scenario.Estimate();
                if (!estimate.Fits)
                {
                    stderr.WriteLine($"bpfsim: {scenario.Name}: this run would not fit in memory: {estimate}; {RunCommand.ShrinkHint(scenario)}");
                    return ExitCodes.BadInput;
                }
                stdout.WriteLine($"{scenario.Name}: ok ({scenario.Describe()})");
                stdout.WriteLine($"estimate: {estimate}");
                if (LargePageHeap.Describe(estimate.MemoryBytes) is { } largePages)
                {
                    stdout.WriteLine(largePages);
                }
                foreach (var note in scenario.Notes)
                {
                    stdout.WriteLine($"note: {note}");
                }
                return ExitCodes.Success;
            }
            catch (ScenarioException e)
            {
                foreach (var error in e.Errors)
                {
                    stderr.WriteLine(error.ToString());
                }
                return ExitCodes.BadInput;
            }
        });
        return command;
    }
}
