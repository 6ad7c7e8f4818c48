using BpfSim.Studies;
using BpfSim.Cli;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

[Category("Cli")]
public sealed class BtfCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

    [Test]
    public void BtfDump_Default_PrintsVmlinuxHeader()
    {
        var (code, output, err) = Run("btf", "dump");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.StartWith("#ifndef __VMLINUX_H__"));
        Assert.That(output, Does.Contain("struct tcp_sock {").And.Contain("struct tcp_congestion_ops {"));
        Assert.That(output, Does.EndWith("#endif /* __VMLINUX_H__ */\n"));
    }

    [Test]
    public void BtfDump_OutputFile_WritesTheSameHeader()
    {
        string file = Path.Combine(Path.GetTempPath(), "bpfsim-vmlinux-" + Guid.NewGuid().ToString("N") + ".h");
        try
        {
            var (code, output, err) = Run("btf", "dump", "--format", "c", "-o", file);
            Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
            Assert.That(output, Is.Empty);
            Assert.That(File.ReadAllText(file), Is.EqualTo(Run("btf", "dump").Out));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void BtfDump_RawToStdout_IsRefusedWithAReason()
    {
        var (code, _, err) = Run("btf", "dump", "--format", "raw");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("--format raw").And.Contain("-o"));
    }

    [Test]
    public void BtfDump_Raw_IsTheKernelBtfThatReadsBack()
    {
        string file = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}.btf");
        try
        {
            var (code, _, err) = Run("btf", "dump", "--format", "raw", "-o", file);
            Assert.That(code, Is.Zero, err);
            var read = BpfSim.Core.Ebpf.Btf.BtfReader.Read(File.ReadAllBytes(file));
            using var services = BpfSim.Studies.Composition.Build();
            var kernel = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
                .GetRequiredService<BpfSim.Core.Hosting.KernelBtfProvider>(services).Spec;
            Assert.That(read.Count, Is.EqualTo(kernel.Count));
            Assert.That(BpfSim.Core.Ebpf.Btf.BtfCFormatter.Format(read), Is.EqualTo(BpfSim.Core.Ebpf.Btf.BtfCFormatter.Format(kernel)), "every type, member and offset");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void BtfDump_UnknownFormat_IsBadInput()
    {
        var (code, _, err) = Run("btf", "dump", "--format", "json");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("json"));
    }

    [Test]
    public void BtfDump_UnwritableOutput_IsBadInput()
    {
        var (code, _, err) = Run("btf", "dump", "-o", "/proc/definitely/not/here.h");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("cannot write"));
    }
}
