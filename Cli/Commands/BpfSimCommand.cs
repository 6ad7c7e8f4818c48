using System.CommandLine;

namespace BpfSim.Cli.Commands;

/// <summary>Builds the command tree and runs it, mapping parse errors to exit code 2 and a bug to one line and exit code 1.</summary>
public static class BpfSimCommand
{
    public static int Invoke(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("bpfsim: a deterministic simulator of the kernel subsystems BPF struct_ops programs plug into");
        root.Subcommands.Add(RunCommand.Create(stdout, stderr, args));
        root.Subcommands.Add(ValidateCommand.Create(stdout, stderr));
        root.Subcommands.Add(SweepCommand.Create(stdout, stderr, args));
        root.Subcommands.Add(ExperimentCommand.Create(stdout, stderr));
        root.Subcommands.Add(ListCommand.Create(stdout, stderr));
        root.Subcommands.Add(StructOpsCommand.Create(stdout, stderr));
        root.Subcommands.Add(BtfCommand.Create(stdout, stderr));
        root.Subcommands.Add(ProgCommand.Create(stdout, stderr));
        root.Subcommands.Add(TraceCommand.Create(stdout, stderr));
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"bpfsim: {ParseErrorText.Friendly(error.Message)}");
            }
            stderr.WriteLine("Run 'bpfsim --help' for usage.");
            return ExitCodes.BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            // Every user mistake is reported by the commands (exit 2); what gets here is a bug in bpfsim, and one
            // line says so without a stack trace (set BPFSIM_TRACE=1 to get it).
            if (e is OutOfMemoryException && LargePageHeap.ActiveLimit is { } limit)
            {
                stderr.WriteLine($"bpfsim: --large-pages: the run outgrew its heap of huge pages ({WorkEstimate.Bytes(limit)}, twice its memory " +
                                 "estimate or all free pages); run it without --large-pages or reserve more pages (docs/performance.md, \"Huge pages\")");
                return ExitCodes.SimulationFailed;
            }
            stderr.WriteLine($"bpfsim: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            if (Environment.GetEnvironmentVariable("BPFSIM_TRACE") == "1")
            {
                stderr.WriteLine(e);
            }
            return ExitCodes.SimulationFailed;
        }
    }
}
