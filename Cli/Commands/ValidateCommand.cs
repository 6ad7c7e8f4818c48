using System.CommandLine;
using BpfSim.Cli.Scenarios;

namespace BpfSim.Cli.Commands;

/// <summary><c>bpfsim validate SCENARIO.yaml</c>: every check of <c>run</c>, nothing run.</summary>
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
                var (spec, _, name) = ScenarioLoader.Load(parse.GetValue(file)!, factory, catalog);
                stdout.WriteLine($"{name}: ok ({spec.Flows.Count} flow group(s), {spec.StructOps.Count} struct_ops entr{(spec.StructOps.Count == 1 ? "y" : "ies")}, {spec.Duration})");
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
