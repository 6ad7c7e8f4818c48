using System.Diagnostics;
using System.Text.Json;
using BpfSim.Tests.Cli;

namespace BpfSim.Tests.Docs;

/// <summary>
/// docs/bpf-programs.md's walkthrough cannot rot: its C program is compiled with clang-14 against the header
/// `bpfsim btf dump` writes, registered, and its scenario run, as the page says.
/// </summary>
[Category("Docs")]
public sealed class BpfProgramsDocTests
{
    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    /// <summary>The text of the page's here-document that ends with <paramref name="marker"/>.</summary>
    private static string HereDocument(string page, string marker)
    {
        string start = $"<<'{marker}'\n";
        int from = page.IndexOf(start, StringComparison.Ordinal);
        Assert.That(from, Is.GreaterThanOrEqualTo(0), $"a <<'{marker}' here-document in docs/bpf-programs.md");
        from += start.Length;
        int to = page.IndexOf($"\n{marker}\n", from, StringComparison.Ordinal);
        return page[from..to] + "\n";
    }

    [Test]
    public void BpfProgramsMd_Walkthrough_CompilesRegistersAndRuns()
    {
        if (!File.Exists("/usr/bin/clang-14") || !File.Exists("/usr/include/bpf/bpf_helpers.h"))
        {
            Assert.Ignore("clang-14 and libbpf-dev are not installed (apt-get install -y clang-14 libbpf-dev)");
        }
        string page = File.ReadAllText(Path.Combine(Repo(), "docs", "bpf-programs.md")).ReplaceLineEndings("\n");
        string folder = Directory.CreateTempSubdirectory("bpfsim-doc-").FullName;
        var (code, _, err) = CliRun.Invoke("btf", "dump", "-o", Path.Combine(folder, "vmlinux.h"));
        Assert.That(code, Is.Zero, err);
        File.WriteAllText(Path.Combine(folder, "my_cc.bpf.c"), HereDocument(page, "C"));
        File.WriteAllText(Path.Combine(folder, "my.yaml"), HereDocument(page, "Y").Replace("my_cc.bpf.o", Path.Combine(folder, "my_cc.bpf.o")));

        var psi = new ProcessStartInfo("clang-14", "-g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -c my_cc.bpf.c -o my_cc.bpf.o")
        {
            WorkingDirectory = folder, RedirectStandardError = true,
        };
        using (var clang = Process.Start(psi)!)
        {
            string errors = clang.StandardError.ReadToEnd();
            clang.WaitForExit();
            Assert.That(clang.ExitCode, Is.Zero, errors);
        }

        (code, var registered, err) = CliRun.Invoke("structops", "register", Path.Combine(folder, "my_cc.bpf.o"));
        Assert.That(code, Is.Zero, err);
        Assert.That(registered, Does.StartWith("Registered tcp_congestion_ops my_cc id 1"));
        (code, var output, err) = CliRun.Invoke("run", Path.Combine(folder, "my.yaml"), "--duration", "3s", "--json");
        Assert.That(code, Is.Zero, err);
        using var summary = JsonDocument.Parse(output);
        Assert.That(summary.RootElement.GetProperty("flows").EnumerateArray().Count(f => f.GetProperty("cc").GetString() == "my_cc"), Is.EqualTo(2));
        Assert.That(summary.RootElement.GetProperty("programs").EnumerateArray().Single(p => p.GetProperty("member").GetString() == "cong_avoid")
            .GetProperty("run_cnt").GetInt64(), Is.GreaterThan(0));
    }

    [Test]
    public void ObjectImplementingGetInfo_IsRefusedAsTheKernelDoes_ExitTwo()
    {
        // bpf_tcp_ca_check_member refuses get_info (ENOTSUPP at the program's load); the object path crashed on it.
        if (!File.Exists("/usr/bin/clang-14") || !File.Exists("/usr/include/bpf/bpf_helpers.h"))
        {
            Assert.Ignore("clang-14 and libbpf-dev are not installed (apt-get install -y clang-14 libbpf-dev)");
        }
        string folder = Directory.CreateTempSubdirectory("bpfsim-getinfo-").FullName;
        var (code, _, err) = CliRun.Invoke("btf", "dump", "-o", Path.Combine(folder, "vmlinux.h"));
        Assert.That(code, Is.Zero, err);
        File.WriteAllText(Path.Combine(folder, "gi.bpf.c"), """
            #include "vmlinux.h"
            #include <bpf/bpf_helpers.h>
            #include <bpf/bpf_tracing.h>
            char _license[] SEC("license") = "GPL";
            extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
            extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;
            extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
            SEC("struct_ops") __u32 BPF_PROG(gi_ssthresh, struct sock *sk) { return tcp_reno_ssthresh(sk); }
            SEC("struct_ops") void BPF_PROG(gi_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) { tcp_reno_cong_avoid(sk, ack, acked); }
            SEC("struct_ops") __u32 BPF_PROG(gi_undo_cwnd, struct sock *sk) { return tcp_reno_undo_cwnd(sk); }
            SEC("struct_ops") size_t BPF_PROG(gi_get_info, struct sock *sk, u32 ext, int *attr, union tcp_cc_info *info) { return 0; }
            SEC(".struct_ops") struct tcp_congestion_ops gi = {
                .ssthresh = (void *)gi_ssthresh, .cong_avoid = (void *)gi_cong_avoid, .undo_cwnd = (void *)gi_undo_cwnd,
                .get_info = (void *)gi_get_info, .name = "gi",
            };
            """);
        var psi = new ProcessStartInfo("clang-14", "-g -O2 -target bpf -I. -c gi.bpf.c -o gi.bpf.o") { WorkingDirectory = folder, RedirectStandardError = true };
        using (var clang = Process.Start(psi)!)
        {
            string errors = clang.StandardError.ReadToEnd();
            clang.WaitForExit();
            Assert.That(clang.ExitCode, Is.Zero, errors);
        }
        (code, var output, err) = CliRun.Invoke("structops", "register", Path.Combine(folder, "gi.bpf.o"));
        Assert.That(code, Is.EqualTo(BpfSim.Studies.ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain("BPF_PROG_LOAD: ENOTSUPP (524): attach to unsupported member get_info of struct tcp_congestion_ops")
            .And.Not.Contain("internal error"));
        Assert.That(output, Is.Empty, "nothing registered, nothing dumped");
    }
}
