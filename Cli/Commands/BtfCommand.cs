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
        using var services = Composition.Build();
        var spec = services.GetRequiredService<KernelBtfProvider>().Spec;
        if (format == "raw")
        {
            // The bytes of a .BTF section, as /sys/kernel/btf/vmlinux holds them: `bpftool btf dump file F` reads them.
            if (output is null)
            {
                stderr.WriteLine("bpfsim: --format raw writes binary BTF: give a file with -o");
                return ExitCodes.BadInput;
            }
            return Write(output, stderr, path => File.WriteAllBytes(path, BtfWriter.Write(spec)));
        }
        string header = BtfCFormatter.Format(spec);
        if (output is null)
        {
            stdout.Write(header);
            return ExitCodes.Success;
        }
        return Write(output, stderr, path => File.WriteAllText(path, header));
    }

    private static int Write(string output, TextWriter stderr, Action<string> write)
    {
        try
        {
            write(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            stderr.WriteLine($"bpfsim: cannot write {output}: {e.Message}");
            return ExitCodes.BadInput;
        }
        return ExitCodes.Success;
    }
}
