using System.Diagnostics;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// Builds sched_ext schedulers with clang-14 against bpfsim's vmlinux.h in a temporary folder: the kernel's own
/// (tools/sched_ext of the Linux 6.12 source tree at <see cref="KernelTree"/>, never copied into the repository).
/// Tests that need them are ignored, with the reason, when clang-14 or the tree is missing.
/// </summary>
internal static class SchedClang
{
    /// <summary>The kernel source tree (Debian's linux-source-6.12, unpacked); BPFSIM_LINUX_SRC overrides it.</summary>
    public static string KernelTree => Environment.GetEnvironmentVariable("BPFSIM_LINUX_SRC") is { Length: > 0 } s ? s : "/tmp/k/src/linux-source-6.12";

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "bpfsim-sched-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Compiles tools/sched_ext/<paramref name="name"/>.bpf.c into <paramref name="dir"/> (-mcpu=v3, as its Makefile does).</summary>
    public static (int Code, string Output) CompileKernelScheduler(string dir, string name, out string obj)
    {
        string src = Path.Combine(KernelTree, "tools", "sched_ext", name + ".bpf.c");
        if (!OnPath("clang-14"))
        {
            Assert.Ignore("clang-14 is not installed");
        }
        if (!File.Exists(src))
        {
            Assert.Ignore($"the Linux 6.12 source tree is not at {KernelTree} (set BPFSIM_LINUX_SRC): no {src}");
        }
        File.WriteAllText(Path.Combine(dir, "vmlinux.h"), BtfCFormatter.Format(SchedKernelBtfTests.Kernel()));
        obj = Path.Combine(dir, name + ".bpf.o");
        string include = Path.Combine(KernelTree, "tools", "sched_ext", "include");
        return Run("clang-14", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86", "-I", dir, "-I", include, "-c", src, "-o", obj], dir);
    }

    public static (int Code, string Output) Run(string file, IEnumerable<string> args, string dir)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}
