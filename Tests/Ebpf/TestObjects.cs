using System.Text;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Tests.Ebpf;

/// <summary>The committed test objects under Tests/Ebpf/objects, found from the test binary by walking up to the repository.</summary>
internal static class TestObjects
{
    public static readonly string[] Names =
    [
        "tcp_ca_full", "tcp_ca_full.v3", "tcp_ca_nogpl", "tcp_ca_nogpl.v3", "sections", "sections.v3", "tcp_ca_faults", "tcp_ca_faults.v3",
        "tcp_ca_setsockopt", "tcp_ca_setsockopt.v3", "tcp_ca_subprogs", "tcp_ca_subprogs.v3", "tcp_ca_queue", "tcp_ca_queue.v3",
        "tcp_ca_mim", "tcp_ca_mim.v3", "tcp_ca_globals", "tcp_ca_globals.v3",
    ];

    /// <summary>Committed XDP objects: programs the kernel refuses at load or attach (xdp_faults), a PROG_ARRAY map (xdp_prog_array), no program at all (xdp_no_programs).</summary>
    public static readonly string[] Xdp = ["xdp_faults", "xdp_faults.v3", "xdp_prog_array", "xdp_prog_array.v3", "xdp_no_programs", "xdp_no_programs.v3"];

    /// <summary>Committed sched_ext objects: a non-sleepable init calling a sleepable kfunc, which the verifier refuses at load.</summary>
    public static readonly string[] Sched = ["scx_nonsleepable_init", "scx_nonsleepable_init.v3"];

    /// <summary>Committed objects the reader refuses on purpose (built by build.sh like the others, so not in <see cref="Names"/>).</summary>
    public static readonly string[] Refused = ["mim_static_init", "mim_static_init.v3"];

    public static string Folder { get; } = FindFolder();

    public static string PathOf(string name) => Path.Combine(Folder, name + ".o");

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    public static ObjectSpec Read(string name) => ObjectReader.Read(PathOf(name));

    /// <summary>A section's bytes, found through the section header table (for tests that feed .BTF to the BTF reader directly).</summary>
    public static byte[] Section(byte[] elf, string sectionName)
    {
        var (offset, size) = SectionExtent(elf, sectionName);
        return elf.AsSpan(offset, size).ToArray();
    }

    /// <summary>Where a section's bytes lie in the file.</summary>
    public static (int Offset, int Size) SectionExtent(byte[] elf, string sectionName)
    {
        var span = elf.AsSpan();
        ulong shoff = BitConverter.ToUInt64(elf, 40);
        int shnum = BitConverter.ToUInt16(elf, 60);
        int shstrndx = BitConverter.ToUInt16(elf, 62);
        ulong strOff = BitConverter.ToUInt64(elf, (int)shoff + shstrndx * 64 + 24);
        for (int i = 0; i < shnum; i++)
        {
            int h = (int)shoff + i * 64;
            int nameOff = (int)BitConverter.ToUInt32(elf, h);
            var nameBytes = span[((int)strOff + nameOff)..];
            string name = Encoding.ASCII.GetString(nameBytes[..nameBytes.IndexOf((byte)0)]);
            if (name == sectionName)
            {
                return ((int)BitConverter.ToUInt64(elf, h + 24), (int)BitConverter.ToUInt64(elf, h + 32));
            }
        }
        throw new InvalidOperationException($"no section {sectionName}");
    }

    /// <summary>A readable, deterministic description of a spec: what the selftest report and the rebuild comparison use.</summary>
    public static string Describe(ObjectSpec spec)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"license={spec.License} version={spec.KernelVersion} btf_types={spec.Btf.Count - 1}");
        foreach (var p in spec.Programs.Concat(spec.Subprograms))
        {
            sb.AppendLine($"prog {p.Name} sec={p.SectionName} kind={p.SectionKind} off={p.SectionOffset} insns={p.Instructions.Length} func_info={p.FuncInfo.Count} line_info={p.LineInfo.Count}");
            foreach (var r in p.Relocations)
            {
                sb.AppendLine($"  relo #{r.InstructionIndex} {r.Kind} {r.Type} {r.SymbolName}@{r.SymbolSection}+{r.SymbolOffset} -> {r.Target} {r.TargetInstruction}");
            }
            foreach (var c in p.CoreRelos)
            {
                sb.AppendLine($"  core #{c.InsnOffset} {c.Kind} {spec.Btf[c.TypeId].Name} {c.AccessString}");
            }
        }
        foreach (var m in spec.Maps)
        {
            sb.AppendLine($"map {m.Name} type={m.Type} key={m.KeySize} value={m.ValueSize} max={m.MaxEntries} flags={m.Flags} key_id={m.KeyTypeId} value_id={m.ValueTypeId} inner={m.InnerMap?.Name}");
        }
        foreach (var d in spec.DataSections)
        {
            sb.AppendLine($"data {d.Name} size={d.Size} bss={d.IsBss} ro={d.IsReadOnly} bytes={Convert.ToHexString(d.Bytes.AsSpan())} " +
                string.Join(",", d.Variables.Select(v => $"{v.Name}@{v.Offset}:{v.Size}")));
        }
        foreach (var e in spec.Externs)
        {
            sb.AppendLine($"extern {e.Name} {e.Kind} weak={e.IsWeak} fn={e.IsFunction} type={e.TypeId}");
        }
        foreach (var s in spec.StructOps)
        {
            sb.AppendLine($"struct_ops {s.Name} sec={s.SectionName} link={s.IsLink} type={s.TypeName} off={s.SectionOffset} size={s.Data.Length} " +
                string.Join(",", s.Programs.Select(kv => $"{kv.Key}={kv.Value}")));
        }
        return sb.ToString();
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "Tests", "Ebpf", "objects");
            if (File.Exists(Path.Combine(candidate, "build.sh")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("Tests/Ebpf/objects not found above the test directory");
    }
}
