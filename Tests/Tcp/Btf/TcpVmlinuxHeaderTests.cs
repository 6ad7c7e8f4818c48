using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using BpfSim.Core.Ebpf.CoRe;
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

    [Test]
    public void Clang_MiniReno_CoreRelocationsNameTheKernelsPaths_AndResolveToTheHeadersOffsets()
    {
        string dir = CompileMiniReno(out _);
        // clang -S prints .BTF and .BTF.ext with comments: the CO-RE records are (insn, type id, access string, kind).
        var r = Run("clang-14", $"-g -O2 -target bpf -I{dir} -S {Path.Combine(dir, "mini_reno.bpf.c")} -o {Path.Combine(dir, "mini_reno.s")}", dir);
        Assert.That(r.Code, Is.EqualTo(0), r.Output);
        var relocations = FieldRelocations(File.ReadAllLines(Path.Combine(dir, "mini_reno.s")));
        Assert.That(relocations, Is.Not.Empty);

        var kernel = KernelBtf.Build([new TcpKernelTypes()]);
        var relocator = new CoreRelocator(kernel);
        var paths = new List<string>();
        foreach (var (type, access, kind) in relocations)
        {
            if (type == "tcp_sock___bytes")
            {
                // A field bpfsim does not model, asked for through a flavor: exists is 0, a read is poisoned.
                Assert.That(kind is CoreReloKind.FieldExists or CoreReloKind.FieldByteOffset, Is.True, kind.ToString());
                continue;
            }
            // The header was written from the kernel BTF, so the object's local types are the kernel's: resolving with
            // the kernel BTF as local BTF must reproduce what clang compiled (value == original value) for every record.
            uint id = kernel.Find(type, BtfKind.Struct) ?? throw new AssertionException($"relocation on {type}, not a kernel struct");
            var result = relocator.Resolve(new CoreRelocation(kernel, id, access, kind));
            Assert.That(result.Poison, Is.False, result.Message);
            Assert.That(result.Value, Is.EqualTo(result.OriginalValue), result.Message);
            paths.Add(result.Message);
        }
        TestContext.Out.WriteLine(string.Join("\n", paths));
        Assert.That(paths, Has.Some.Contains("tcp_sock.inet_conn.icsk_inet.sk.sk_pacing_rate (0:0:0:0:0:0:0:1:1 @ offset 160)"));
        Assert.That(paths, Has.Some.Contains("tcp_sock.snd_cwnd (0:0:1:0 @ offset 0)"));
        Assert.That(paths, Has.Some.Contains("inet_connection_sock.icsk_ca_priv"));
        Assert.That(paths, Has.Some.Contains("inet_connection_sock.icsk_ca_state"));
        Assert.That(paths, Has.Some.Contains("tcp_sock.is_cwnd_limited"));
        Assert.That(paths, Has.Some.Contains("ack_sample.rtt_us"));
        Assert.That(relocations.Select(x => x.Kind), Has.Member(CoreReloKind.FieldLShiftU64).And.Member(CoreReloKind.FieldExists));
    }

    /// <summary>The CO-RE field relocations in clang's assembly output: (root type name, access string, kind).</summary>
    private static List<(string Type, string Access, CoreReloKind Kind)> FieldRelocations(string[] lines)
    {
        var strings = new Dictionary<long, string>();
        var typeNames = new Dictionary<long, long>();
        var str = new Regex(@"^\s*\.(?:ascii\s+""(.*)""|byte\s+0)\s+# string offset=(\d+)");
        var kind = new Regex(@"^\s*\.long\s+(\d+)\s+# BTF_KIND_\w+\(id = (\d+)\)");
        int relocStart = -1;
        for (int i = 0; i < lines.Length; i++)
        {
            if (str.Match(lines[i]) is { Success: true } sm)
            {
                strings[long.Parse(sm.Groups[2].Value, CultureInfo.InvariantCulture)] = sm.Groups[1].Value;
            }
            else if (kind.Match(lines[i]) is { Success: true } km)
            {
                typeNames[long.Parse(km.Groups[2].Value, CultureInfo.InvariantCulture)] = long.Parse(km.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            else if (lines[i].Contains("# FieldReloc", StringComparison.Ordinal))
            {
                relocStart = i + 1;
            }
        }
        var result = new List<(string, string, CoreReloKind)>();
        if (relocStart < 0)
        {
            return result;
        }
        static string Operand(string line) => line.Trim().Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1];
        int at = relocStart;
        // Per section: name offset, count, then count records of insn label, type id, access string offset, kind.
        while (at + 1 < lines.Length && lines[at].Contains("Field reloc section string offset", StringComparison.Ordinal))
        {
            int count = int.Parse(Operand(lines[at + 1]), CultureInfo.InvariantCulture);
            at += 2;
            for (int n = 0; n < count; n++, at += 4)
            {
                long typeId = long.Parse(Operand(lines[at + 1]), CultureInfo.InvariantCulture);
                string access = strings[long.Parse(Operand(lines[at + 2]), CultureInfo.InvariantCulture)];
                var k = (CoreReloKind)uint.Parse(Operand(lines[at + 3]), CultureInfo.InvariantCulture);
                result.Add((strings[typeNames[typeId]], access, k));
            }
        }
        return result;
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
