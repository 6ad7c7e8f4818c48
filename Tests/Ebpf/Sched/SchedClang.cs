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

    /// <summary>
    /// What libbpf ≥ 1.2's bpf_helpers.h adds and Debian's 1.1.2 lacks, which scx_qmap and scx_central use:
    /// bpf_ksym_exists and the open-coded iterator loops over the bpf_iter_num kfuncs (bpf_for, bpf_repeat,
    /// bpf_for_each), plus BPF_MAX_LOOPS. Written for bpfsim's tests from their documented meaning.
    /// </summary>
    public const string Libbpf12Shim = """
        #define bpf_ksym_exists(sym) ({ _Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); !!sym; })
        struct bpf_iter_num { unsigned long long __opaque[1]; } __attribute__((aligned(8)));
        extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __attribute__((weak, section(".ksyms")));
        extern int *bpf_iter_num_next(struct bpf_iter_num *it) __attribute__((weak, section(".ksyms")));
        extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __attribute__((weak, section(".ksyms")));
        #define bpf_for_each(type, cur, args...) for (struct bpf_iter_##type ___it __attribute__((aligned(8), cleanup(bpf_iter_##type##_destroy))), *___p __attribute__((unused)) = (bpf_iter_##type##_new(&___it, ##args), (void *)0); (((cur) = bpf_iter_##type##_next(&___it))); )
        #define bpf_for(i, start, end) for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), *___p __attribute__((unused)) = (bpf_iter_num_new(&___it, (start), (end)), (void *)0); ({ int *___t = bpf_iter_num_next(&___it); (___t && ((i) = *___t, (i) >= (start) && (i) < (end))); }); )
        #define bpf_repeat(N) for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), *___p __attribute__((unused)) = (bpf_iter_num_new(&___it, 0, (N)), (void *)0); bpf_iter_num_next(&___it); )
        #define BPF_MAX_LOOPS (8 * 1024 * 1024)

        """;

    /// <summary>Compiles tools/sched_ext/<paramref name="name"/>.bpf.c into <paramref name="dir"/> (-mcpu=v3, as its Makefile does), with <see cref="Libbpf12Shim"/> first when <paramref name="shim"/>.</summary>
    public static (int Code, string Output) CompileKernelScheduler(string dir, string name, out string obj, bool shim = false)
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
        List<string> args = ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86", "-I", dir, "-I", include, "-c", src, "-o", obj];
        if (shim)
        {
            File.WriteAllText(Path.Combine(dir, "libbpf12.h"), Libbpf12Shim);
            args.InsertRange(0, ["-include", Path.Combine(dir, "libbpf12.h")]);
        }
        return Run("clang-14", args, dir);
    }

    /// <summary>Compiles Tests/Ebpf/Sched/src/<paramref name="name"/>.bpf.c with Programs/bpf/bpfsim_scx.h and a fresh vmlinux.h.</summary>
    public static (int Code, string Output) CompileTestScheduler(string dir, string name, out string obj)
    {
        if (!OnPath("clang-14"))
        {
            Assert.Ignore("clang-14 is not installed");
        }
        File.WriteAllText(Path.Combine(dir, "vmlinux.h"), BtfCFormatter.Format(SchedKernelBtfTests.Kernel()));
        File.Copy(Path.Combine(Programs.BpfObjects.SourceFolder, "bpfsim_scx.h"), Path.Combine(dir, "bpfsim_scx.h"));
        string src = Path.Combine(dir, name + ".bpf.c");
        File.Copy(Path.Combine(Programs.BpfObjects.SourceFolder, "..", "..", "Tests", "Ebpf", "Sched", "src", name + ".bpf.c"), src);
        obj = Path.Combine(dir, name + ".bpf.o");
        return Run("clang-14", ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86", "-I", dir, "-c", src, "-o", obj], dir);
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
