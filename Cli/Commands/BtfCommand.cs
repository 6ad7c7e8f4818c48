using System.CommandLine;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Cli.Commands;

/// <summary>
/// <c>bpfsim btf dump [--format c|raw] [-o FILE]</c>: bpfsim's kernel BTF, as <c>bpftool btf dump file
/// /sys/kernel/btf/vmlinux format c &gt; vmlinux.h</c> gives a real kernel's — the header BPF programs for bpfsim
/// compile against, with bpfsim's own offsets.
/// </summary>
public static class BtfCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var format = new Option<string>("--format")
        {
            Description = "c: a vmlinux.h header; raw: the BTF bytes",
            DefaultValueFactory = _ => "c",
        };
        format.AcceptOnlyFromAmong("c", "raw");
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE instead of stdout" };
        var dump = new Command("dump", "Print bpfsim's kernel BTF (vmlinux.h with --format c)") { format, output };
        dump.SetAction(parse => Dump(parse.GetValue(format)!, parse.GetValue(output), stdout, stderr));
        return new Command("btf", "Inspect bpfsim's kernel BTF") { dump };
    }

    private static int Dump(string format, string? output, TextWriter stdout, TextWriter stderr)
    {
        if (format == "raw")
        {
            // The raw encoder belongs with the .BTF reader (Core/Ebpf/Btf); until it exists only the header is offered.
            stderr.WriteLine("bpfsim: --format raw is not available yet (bpfsim has no raw BTF writer); use --format c");
            return ExitCodes.BadInput;
        }
        using var services = Composition.Build();
        string header = BtfCFormatter.Format(services.GetRequiredService<KernelBtfProvider>().Spec);
        if (output is null)
        {
            stdout.Write(header);
            return ExitCodes.Success;
        }
        try
        {
            File.WriteAllText(output, header);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"bpfsim: cannot write {output}: {e.Message}");
            return ExitCodes.BadInput;
        }
        return ExitCodes.Success;
    }
}
