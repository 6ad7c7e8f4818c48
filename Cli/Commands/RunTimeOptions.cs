using System.CommandLine;
using BpfSim.Studies.Runs;

namespace BpfSim.Cli.Commands;

/// <summary>
/// The run-time options <c>run</c> and <c>sweep</c> share (DESIGN §7): <c>--trace DIR</c>, <c>--pcap LINK</c> (repeatable)
/// <c>--format csv,parquet</c> and <c>--no-jit</c>. None changes a run's results, only what is written about it or how
/// fast it goes.
/// </summary>
public sealed class RunTimeOptions
{
    public Option<string?> Trace { get; } = new("--trace")
    {
        HelpName = "DIR",
        Description = "Write per-event MessagePack traces here: every ACK, send, retransmission, queue drop/mark, congestion-control call and struct_ops change (docs/traces.md)",
    };

    public Option<string[]> Pcap { get; } = new("--pcap")
    {
        HelpName = "LINK",
        Description = "Write what crossed this link (by name, e.g. bottleneck) as LINK.pcap in the --out folder; repeat for several links",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> Format { get; } = new("--format")
    {
        HelpName = "FORMATS",
        Description = "Table formats for the written CSVs: csv, parquet or csv,parquet (default csv)",
    };

    public Option<bool> NoJit { get; } = new("--no-jit")
    {
        Description = "Run BPF objects' programs in the interpreter instead of compiling them (the JIT, on by default as net.core.bpf_jit_enable); results are identical",
    };

    public IEnumerable<Option> All => [Trace, Pcap, Format, NoJit];

    /// <summary>Reads the options into <paramref name="settings"/>; false with a message on <paramref name="stderr"/> when one is bad.</summary>
    public bool TryApply(ParseResult parse, RunSettings settings, TextWriter stderr, out RunSettings applied)
    {
        applied = settings;
        var formats = OutputFormats.Csv;
        if (parse.GetValue(Format) is { } text)
        {
            if (!OutputFormatsText.TryParse(text, out formats, out var error))
            {
                stderr.WriteLine($"bpfsim: --format: {error}");
                return false;
            }
        }
        applied = settings with
        {
            TraceDirectory = parse.GetValue(Trace),
            PcapLinks = parse.GetValue(Pcap) ?? [],
            Formats = formats,
            Jit = !parse.GetValue(NoJit),
        };
        return true;
    }
}
