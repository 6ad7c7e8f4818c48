using BpfSim.Studies;
using System.Diagnostics;
using BpfSim.Cli;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Core.Ebpf.Spec;
using BpfSim.Core.Hosting;
using BpfSim.Tcp.Stack;
using BpfSim.Tests.Ebpf;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Tests.Programs;

/// <summary>
/// bpfsim's own BPF consumers (Programs/bpf): the committed objects are what build.sh makes (where clang-14 is
/// installed), from the committed vmlinux.h, which is what <c>bpfsim btf dump</c> writes now; each object holds the
/// programs, struct_ops variables, maps, globals and externs its source declares; and every CO-RE relocation
/// resolves, unpoisoned, against bpfsim's kernel BTF.
/// </summary>
[Category("Ebpf")]
public sealed class BpfObjectsBuildTests
{
    private static readonly string[] CubicHooks =
    [
        "init=cubic_c_init", "ssthresh=cubic_c_recalc_ssthresh", "cong_avoid=cubic_c_cong_avoid", "set_state=cubic_c_state",
        "undo_cwnd=cubic_c_undo_cwnd", "cwnd_event=cubic_c_cwnd_event", "pkts_acked=cubic_c_acked",
    ];

    [Test]
    public void BuildScript_RebuildsCommittedObjects_ByteIdentical()
    {
        if (!OnPath("clang-14"))
        {
            Assert.Ignore("clang-14 is not installed; the committed objects in Programs/bpf/obj are used as they are");
        }
        string output = Path.Combine(Path.GetTempPath(), "bpfsim-bpfc-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("sh", [Path.Combine(BpfObjects.SourceFolder, "build.sh"), output])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            using var process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, errors);
            Assert.That(Directory.GetFiles(output, "*.bpf.o").Select(Path.GetFileName).Order(),
                Is.EqualTo(BpfObjects.Names.Select(n => n + ".bpf.o").Order()), "build.sh makes exactly the committed objects");
            Assert.Multiple(() =>
            {
                foreach (string name in BpfObjects.Names)
                {
                    byte[] rebuilt = File.ReadAllBytes(Path.Combine(output, name + ".bpf.o"));
                    Assert.That(rebuilt, Is.EqualTo(File.ReadAllBytes(BpfObjects.PathOf(name))),
                        $"{name}.bpf.o differs from its rebuild: run Programs/bpf/build.sh and commit");
                }
            });
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [Test]
    public void VmlinuxHeader_IsWhatBtfDumpWritesNow()
    {
        using var services = Composition.Build();
        string header = BtfCFormatter.Format(services.GetRequiredService<KernelBtfProvider>().Spec);
        Assert.That(File.ReadAllText(Path.Combine(BpfObjects.SourceFolder, "vmlinux.h")), Is.EqualTo(header),
            "Programs/bpf/vmlinux.h is stale: BPFSIM_REGEN_VMLINUX=1 sh Programs/bpf/build.sh, and commit the header and objects");
    }

    [TestCase("bpf_cubic")]
    [TestCase("bpf_cubic.v3")]
    public void Cubic_HasSevenHooks_TheCbrtTable_ConfigHz_AndThreeKfuncs(string name)
    {
        var spec = BpfObjects.Read(name);
        AssertCommon(spec, "bpf_cubic_c", "bpf_cubic_c", isLink: false, CubicHooks);
        Assert.That(spec.Maps, Is.Empty);
        var rodata = spec.DataSections.Single();
        Assert.That((rodata.Name, rodata.IsReadOnly, rodata.Size), Is.EqualTo((".rodata", true, 64u)));
        Assert.That(rodata.Variables.Select(v => v.Name), Is.EqualTo(new[] { "cbrt_v" }));
        Assert.That(rodata.Bytes[1], Is.EqualTo(54), "the cube-root table v[1]");
        Assert.That(rodata.Bytes[63], Is.EqualTo(254), "the cube-root table v[63]");
        Assert.That(Externs(spec), Is.EquivalentTo(new[]
        {
            "CONFIG_HZ Kconfig", "tcp_slow_start Ksym fn", "tcp_cong_avoid_ai Ksym fn", "tcp_reno_undo_cwnd Ksym fn",
        }));
        Assert.That(Calls(spec, "cubic_c_cong_avoid"), Is.EquivalentTo(new[] { "helper 118", "kfunc tcp_slow_start", "kfunc tcp_cong_avoid_ai" }));
        Assert.That(Calls(spec, "cubic_c_acked"), Is.EquivalentTo(new[] { "helper 118" }));
        Assert.That(Calls(spec, "cubic_c_cwnd_event"), Is.EquivalentTo(new[] { "helper 118" }));
        Assert.That(Calls(spec, "cubic_c_undo_cwnd"), Is.EquivalentTo(new[] { "kfunc tcp_reno_undo_cwnd" }));
        Assert.That(Calls(spec, "cubic_c_init").Concat(Calls(spec, "cubic_c_state")).Concat(Calls(spec, "cubic_c_recalc_ssthresh")), Is.Empty);
    }

    [Test]
    public void Dctcp_HasSevenHooks_NeedsEcn_SkStorage_RodataKnobs_BssCounters()
    {
        var spec = BpfObjects.Read("bpf_dctcp");
        AssertCommon(spec, "bpf_dctcp_c", "bpf_dctcp_c", isLink: false,
        [
            "init=dctcp_c_init", "in_ack_event=dctcp_c_update_alpha", "cwnd_event=dctcp_c_cwnd_event", "ssthresh=dctcp_c_ssthresh",
            "cong_avoid=dctcp_c_cong_avoid", "undo_cwnd=dctcp_c_cwnd_undo", "set_state=dctcp_c_state",
        ]);
        var so = spec.StructOps.Single();
        Assert.That(MemberU32(spec, so, "flags"), Is.EqualTo(0x2u), "TCP_CONG_NEEDS_ECN");

        var map = spec.Maps.Single();
        Assert.That((map.Name, map.Type, map.KeySize, map.ValueSize, map.MaxEntries, map.Flags),
            Is.EqualTo(("dctcp_c_sk_stats", MapType.SkStorage, 4u, 24u, 0u, 1u)), "SK_STORAGE, int key, BPF_F_NO_PREALLOC");

        var rodata = spec.DataSections.Single(d => d.Name == ".rodata");
        Assert.That(rodata.IsReadOnly, Is.True);
        Assert.That(rodata.Variables.Select(v => $"{v.Name}@{v.Offset}:{v.Size}"),
            Is.EqualTo(new[] { "dctcp_shift_g@0:4", "dctcp_alpha_on_init@4:4", "fallback_cc@8:16" }));
        Assert.That(BitConverter.ToUInt32(rodata.Bytes.AsSpan()[0..4]), Is.EqualTo(4u), "g = 1/16");
        Assert.That(BitConverter.ToUInt32(rodata.Bytes.AsSpan()[4..8]), Is.EqualTo(1024u), "alpha starts at 1.0");
        Assert.That(System.Text.Encoding.ASCII.GetString(rodata.Bytes.AsSpan()[8..24]).TrimEnd('\0'), Is.EqualTo("reno"));
        var bss = spec.DataSections.Single(d => d.Name == ".bss");
        Assert.That(bss.IsBss, Is.True);
        Assert.That(bss.Variables.Select(v => $"{v.Name}@{v.Offset}:{v.Size}"),
            Is.EqualTo(new[] { "fallback_switches@0:4", "fallback_error@4:4" }));

        Assert.That(Externs(spec), Is.EquivalentTo(new[] { "tcp_reno_cong_avoid Ksym fn" }));
        Assert.That(Calls(spec, "dctcp_c_init"), Is.EquivalentTo(new[] { "helper 107", "helper 49" }));
        Assert.That(Calls(spec, "dctcp_c_update_alpha"), Is.EquivalentTo(new[] { "helper 107" }));
        Assert.That(Calls(spec, "dctcp_c_cwnd_event"), Is.EquivalentTo(new[] { "helper 107", "helper 116" }));
        Assert.That(Calls(spec, "dctcp_c_cong_avoid"), Is.EquivalentTo(new[] { "kfunc tcp_reno_cong_avoid" }));
    }

    [Test]
    public void Reno_HasTheThreeMandatoryHooks_ThroughRenoKfuncs()
    {
        var spec = BpfObjects.Read("bpf_reno");
        AssertCommon(spec, "bpf_reno_c", "bpf_reno_c", isLink: false,
            ["ssthresh=reno_c_ssthresh", "cong_avoid=reno_c_cong_avoid", "undo_cwnd=reno_c_undo_cwnd"]);
        Assert.That(spec.Maps, Is.Empty);
        Assert.That(spec.DataSections, Is.Empty);
        Assert.That(Externs(spec), Is.EquivalentTo(new[] { "tcp_reno_ssthresh Ksym fn", "tcp_reno_cong_avoid Ksym fn", "tcp_reno_undo_cwnd Ksym fn" }));
    }

    [TestCase("bpf_reno_link_v1", "reno_lnk_v1", true)]
    [TestCase("bpf_reno_link_v2", "reno_lnk_v2", false)]
    public void RenoLink_BothVersionsRegisterOneName_InLinkMode(string name, string variable, bool renoSsthresh)
    {
        var spec = BpfObjects.Read(name);
        AssertCommon(spec, variable, "bpf_reno_lnk", isLink: true,
            [$"ssthresh={variable}_ssthresh", $"cong_avoid={variable}_cong_avoid", $"undo_cwnd={variable}_undo_cwnd"]);
        Assert.That(spec.StructOps.Single().SectionName, Is.EqualTo(".struct_ops.link"));
        Assert.That(Calls(spec, $"{variable}_ssthresh"), renoSsthresh ? Is.EqualTo(new[] { "kfunc tcp_reno_ssthresh" }) : Is.Empty,
            "v1 backs off with Reno's kfunc, v2 computes 0.7 × cwnd itself");
    }

    [TestCaseSource(nameof(AllObjects))]
    public void EveryCoreRelocation_ResolvesAgainstBpfsimsKernelBtf(string name)
    {
        var spec = BpfObjects.Read(name);
        var kernel = KernelBtf.Build([new TcpKernelTypes(), new BpfSim.Scheduler.Btf.SchedKernelTypes()]);
        var relocator = new CoreRelocator(kernel);
        var seen = new List<string>();
        foreach (var program in spec.Programs.Concat(spec.Subprograms))
        {
            foreach (var relo in program.CoreRelos)
            {
                var result = relocator.Resolve(new CoreRelocation(spec.Btf, relo.TypeId, relo.AccessString, relo.Kind));
                Assert.That(result.Poison, Is.False, $"{name} {program.Name} insn {relo.InsnOffset}: {result.Message}");
                // The header is bpfsim's kernel BTF: every value is what clang compiled in.
                Assert.That(result.Value, Is.EqualTo(result.OriginalValue), $"{name} {program.Name}: {result.Message}");
                seen.Add(result.Message);
            }
        }
        TestContext.Out.WriteLine(string.Join("\n", seen.Distinct()));
        if (name.StartsWith("bpf_cubic", StringComparison.Ordinal) || name == "bpf_dctcp" || name.StartsWith("scx_simple", StringComparison.Ordinal))
        {
            Assert.That(seen, Is.Not.Empty);
        }
    }

    private static IEnumerable<string> AllObjects() => BpfObjects.Names;

    private static void AssertCommon(ObjectSpec spec, string variable, string algorithm, bool isLink, string[] hooks)
    {
        Assert.That(spec.License, Is.EqualTo("GPL"));
        var so = spec.StructOps.Single();
        Assert.That((so.Name, so.TypeName, so.IsLink), Is.EqualTo((variable, "tcp_congestion_ops", isLink)));
        Assert.That(so.Programs.Select(kv => $"{kv.Key}={kv.Value}"), Is.EquivalentTo(hooks));
        Assert.That(spec.Programs.Select(p => p.Name), Is.EquivalentTo(hooks.Select(h => h[(h.IndexOf('=') + 1)..])));
        Assert.That(spec.Programs.All(p => p.SectionKind == ProgramSectionKind.StructOps), Is.True);
        Assert.That(spec.Subprograms, Is.Empty, "every helper function is inlined: one function per program");
        Assert.That(MemberName(spec, so), Is.EqualTo(algorithm));
    }

    /// <summary>The name member of a struct_ops variable, read from its data with the member's offset in the object's BTF.</summary>
    private static string MemberName(ObjectSpec spec, ObjectStructOps so)
    {
        int offset = MemberOffset(spec, so, "name");
        var bytes = so.Data.AsSpan().Slice(offset, 16);
        return System.Text.Encoding.ASCII.GetString(bytes[..bytes.IndexOf((byte)0)]);
    }

    private static uint MemberU32(ObjectSpec spec, ObjectStructOps so, string member) =>
        BitConverter.ToUInt32(so.Data.AsSpan().Slice(MemberOffset(spec, so, member), 4));

    private static int MemberOffset(ObjectSpec spec, ObjectStructOps so, string member)
    {
        var type = (BtfComposite)spec.Btf[so.TypeId];
        return (int)(type.Members.Single(m => m.Name == member).BitOffset / 8);
    }

    private static IEnumerable<string> Externs(ObjectSpec spec) =>
        spec.Externs.Select(e => $"{e.Name} {e.Kind}{(e.IsFunction ? " fn" : "")}");

    /// <summary>The helpers (by id) and kfuncs (by name) a program calls.</summary>
    private static List<string> Calls(ObjectSpec spec, string program)
    {
        var p = spec.Programs.Single(p => p.Name == program);
        var kfuncs = p.Relocations.Where(r => r.Kind == RelocationKind.Ksym).ToDictionary(r => r.InstructionIndex, r => r.Target);
        var calls = new List<string>();
        for (int i = 0; i < p.Instructions.Length; i++)
        {
            var insn = p.Instructions[i];
            if (insn.Opcode == 0x85)
            {
                calls.Add(kfuncs.TryGetValue(i, out string? k) ? $"kfunc {k}" : $"helper {insn.Imm}");
            }
        }
        return calls.Distinct().ToList();
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, tool)));
}
