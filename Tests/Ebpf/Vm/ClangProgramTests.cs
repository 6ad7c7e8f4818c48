using System.Diagnostics;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>
/// A function clang compiles (<c>clang-14 -O2 -target bpf</c>, its .text extracted with llvm-objcopy) runs to the
/// value the same C computes in C#. Skipped where clang-14 or llvm-objcopy-14 is not installed.
/// </summary>
[Category("Ebpf")]
public sealed class ClangProgramTests(VmEngine engine) : VmEngineFixture(engine)
{
    private const string Source =
        "unsigned long long f(unsigned long long *ctx) { unsigned long long a = ctx[0], s = 0;" +
        " for (unsigned i = 0; i < 10; i++) s += (a * i) % 7 + (a >> i); return s / 3; }\n";

    private static ulong Expected(ulong a)
    {
        ulong s = 0;
        for (int i = 0; i < 10; i++)
        {
            s += (a * (ulong)i) % 7 + (a >> i);
        }
        return s / 3;
    }

    [TestCase(0UL)]
    [TestCase(12345UL)]
    [TestCase(ulong.MaxValue)]
    public void ClangCompiledLoop_ComputesWhatTheCDoes(ulong a)
    {
        var text = Compile();
        var memory = new AddressSpace();
        var ctx = new byte[8];
        BitConverter.TryWriteBytes(ctx, a);
        var region = memory.Map(ctx, RegionKind.Context, MemoryAccess.Read, "ctx");
        var context = new RunContext(memory);
        ulong r0 = TestVm.Execute(Instruction.Read(text), ref context, [AddressSpace.AddressOf(region)]);
        Assert.That(r0, Is.EqualTo(Expected(a)));
    }

    private static byte[] Compile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "bpfsim-clang-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "f.c"), Source);
            if (!Tool("clang-14", "-O2 -target bpf -c f.c -o f.o", dir) || !Tool("llvm-objcopy-14", "-O binary --only-section=.text f.o f.bin", dir))
            {
                Assert.Ignore("clang-14 and llvm-objcopy-14 are needed to compile the BPF test program");
            }
            return File.ReadAllBytes(Path.Combine(dir, "f.bin"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool Tool(string name, string arguments, string dir)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(name, arguments)
            {
                WorkingDirectory = dir,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
