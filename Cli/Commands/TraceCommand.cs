using System.CommandLine;
using BpfSim.Studies.Runs;
using BpfSim.Studies.Traces;

namespace BpfSim.Cli.Commands;

/// <summary><c>bpfsim trace convert DIR --to csv|parquet [--out OUT]</c>: a trace folder's records as one table per record type.</summary>
public static class TraceCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dir = new Argument<string>("dir") { Description = "A trace folder written by bpfsim run --trace DIR" };
        var to = new Option<string>("--to") { HelpName = "FORMATS", Description = "csv, parquet or csv,parquet", Required = true };
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = "Where the tables go (default: the trace folder)" };
        var convert = new Command("convert", "Write a trace's records as one table per record type (ack, send, ca, queue, struct_ops); see docs/traces.md")
        {
            dir, to, output,
        };
        convert.SetAction(parse =>
        {
            if (!OutputFormatsText.TryParse(parse.GetValue(to)!, out var formats, out var error))
            {
                stderr.WriteLine($"bpfsim: trace convert: --to: {error}");
                return ExitCodes.BadInput;
            }
            string folder = parse.GetValue(dir)!;
            try
            {
                var written = TraceReader.Convert(folder, parse.GetValue(output) ?? folder, formats);
                foreach (string file in written)
                {
                    stdout.WriteLine(file);
                }
                return ExitCodes.Success;
            }
            catch (TraceFormatException e)
            {
                stderr.WriteLine($"bpfsim: trace convert: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The output folder cannot be made or written (a file where it should be, no permission).
                string target = parse.GetValue(output) ?? folder;
                stderr.WriteLine(File.Exists(target)
                    ? $"bpfsim: trace convert: --out {target}: a file is there; the tables go into a directory"
                    : $"bpfsim: trace convert: cannot write into {target}: {e.Message}");
                return ExitCodes.BadInput;
            }
        });
        return new Command("trace", "Work with per-event traces (bpfsim run --trace DIR)") { convert };
    }
}
