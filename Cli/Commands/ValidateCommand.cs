using System.CommandLine;
using BpfSim.Cli.Scenarios;

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
                var (spec, _, name) = ScenarioLoader.Load(parse.GetValue(file)!, factory, catalog);
                var estimate = WorkEstimate.For(spec);
                if (!estimate.Fits)
                {
                    stderr.WriteLine($"bpfsim: {name}: this run would not fit in memory: {estimate}; shorten it, use fewer flows or a longer sample_interval");
                    return ExitCodes.BadInput;
                }
                stdout.WriteLine($"{name}: ok ({spec.Flows.Count} flow group(s), {spec.StructOps.Count} struct_ops entr{(spec.StructOps.Count == 1 ? "y" : "ies")}, {spec.Duration})");
                stdout.WriteLine($"estimate: {estimate}");
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
