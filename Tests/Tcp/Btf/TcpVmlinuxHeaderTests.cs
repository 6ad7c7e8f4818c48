using System.Diagnostics;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp.Btf;

/// <summary>bpfsim's vmlinux.h: its shape without clang, and with clang-14 that a BPF congestion control compiles against it.</summary>
[Category("Ebpf")]
public sealed class TcpVmlinuxHeaderTests
{
    private static string Header() => BtfCFormatter.Format(KernelBtf.Build([new TcpKernelTypes()]));

    [Test]
    public void Format_KernelBtf_HasGuardPragmaAndTheSocketHierarchy()
    {
        string h = Header();
        TestContext.Out.WriteLine(h);
        Assert.That(h, Does.StartWith("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"));
        Assert.That(h, Does.Contain("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)"));
        Assert.That(h, Does.Contain("typedef unsigned int __u32;").And.Contain("typedef __u32 u32;").And.Contain("typedef _Bool bool;"));
        Assert.That(h, Does.Contain("struct tcp_sock {").And.Contain("struct inet_connection_sock inet_conn;"));
        Assert.That(h, Does.Contain("struct inet_sock icsk_inet;").And.Contain("struct sock sk;").And.Contain("struct sock_common __sk_common;"));
        Assert.That(h, Does.Contain("u64 icsk_ca_priv[13];").And.Contain("__u8 icsk_ca_state: 5;").And.Contain("u8 is_cwnd_limited: 1;"));
        Assert.That(h, Does.Contain("u32 (*ssthresh)(struct sock *);"));
        Assert.That(h, Does.Contain("void (*pkts_acked)(struct sock *, const struct ack_sample *);"));
        Assert.That(h, Does.Contain("void (*cwnd_event)(struct sock *, enum tcp_ca_event);"));
        Assert.That(h, Does.Contain("size_t (*get_info)(struct sock *, u32, int *, union tcp_cc_info *);"));
        Assert.That(h, Does.Contain("enum tcp_ca_state {\n\tTCP_CA_Open = 0,"));
        Assert.That(h, Does.Contain("char name[16];"));
        Assert.That(h, Does.EndWith("#endif /* __VMLINUX_H__ */\n"));
        // Definitions come before uses by value: sock before inet_sock before inet_connection_sock before tcp_sock.
        Assert.That(h.IndexOf("struct sock {", StringComparison.Ordinal), Is.LessThan(h.IndexOf("struct inet_sock {", StringComparison.Ordinal)));
        Assert.That(h.IndexOf("struct inet_sock {", StringComparison.Ordinal), Is.LessThan(h.IndexOf("struct inet_connection_sock {", StringComparison.Ordinal)));
        Assert.That(h.IndexOf("struct inet_connection_sock {", StringComparison.Ordinal), Is.LessThan(h.IndexOf("struct tcp_sock {", StringComparison.Ordinal)));
    }

    [Test]
    public void Clang_MiniReno_CompilesAgainstTheHeader()
    {
        string dir = CompileMiniReno(out string obj);
        Assert.That(File.Exists(obj), Is.True, "clang wrote no object");
        // The object was compiled against bpfsim's layout: the loads carry bpfsim's offsets before any relocation.
        string dis = Run("llvm-objdump-14", $"-d --no-show-raw-insn {obj}", dir).Output;
        TestContext.Out.WriteLine(dis);
        Assert.That(dis, Does.Contain("mini_reno_ssthresh"));
    }

    /// <summary>Writes vmlinux.h and mini_reno.bpf.c to a fresh directory and compiles them with clang-14 -target bpf.</summary>
    internal static string CompileMiniReno(out string obj)
    {
        if (!HasTool("clang-14") || !File.Exists("/usr/include/bpf/bpf_helpers.h"))
        {
            Assert.Ignore("clang-14 and libbpf-dev (bpf/bpf_helpers.h) are needed to compile a BPF program");
        }
        string dir = Path.Combine(Path.GetTempPath(), "bpfsim-vmlinux-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "vmlinux.h"), Header());
        File.Copy(Path.Combine(TestContext.CurrentContext.TestDirectory, "bpf", "mini_reno.bpf.c"), Path.Combine(dir, "mini_reno.bpf.c"));
        obj = Path.Combine(dir, "mini_reno.bpf.o");
        var r = Run("clang-14", $"-g -O2 -target bpf -Wall -Werror -I{dir} -c {Path.Combine(dir, "mini_reno.bpf.c")} -o {obj}", dir);
        Assert.That(r.Code, Is.EqualTo(0), $"clang-14 failed:\n{r.Output}");
        return dir;
    }

    internal static bool HasTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, name)));

    internal static (int Code, string Output) Run(string file, string args, string dir)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
