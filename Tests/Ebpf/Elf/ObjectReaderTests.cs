using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Tests.Ebpf.Elf;

public sealed class ObjectReaderTests
{
    [TestCase("tcp_ca_full")]
    [TestCase("tcp_ca_full.v3")]
    public void Read_FullObject_FindsProgramsOfOneSectionBySymbol(string name)
    {
        var spec = TestObjects.Read(name);
        Assert.Multiple(() =>
        {
            Assert.That(spec.License, Is.EqualTo("GPL"));
            Assert.That(spec.Programs.Select(p => p.Name), Is.EqualTo(new[]
            {
                "test_init", "test_ssthresh", "test_cong_avoid", "test_set_state", "test_cwnd_event", "test_pkts_acked", "test_undo_cwnd",
            }));
            Assert.That(spec.Programs.All(p => p.SectionName == "struct_ops" && p.SectionKind == ProgramSectionKind.StructOps), Is.True);
            Assert.That(spec.Subprograms.Select(p => p.Name), Is.EqualTo(new[] { "halve_cwnd" }));
            Assert.That(spec.Programs.All(p => p.FuncInfo.Count == 1 && p.FuncInfo[0].InsnOffset == 0), Is.True);
        });
    }

    [Test]
    public void Read_FullObject_ClassifiesRelocations()
    {
        var spec = TestObjects.Read("tcp_ca_full");
        var congAvoid = spec.Programs.Single(p => p.Name == "test_cong_avoid");
        var ssthresh = spec.Programs.Single(p => p.Name == "test_ssthresh");
        Assert.Multiple(() =>
        {
            Assert.That(congAvoid.Relocations.Select(r => (r.Kind, r.Target)), Is.EqualTo(new[]
            {
                (RelocationKind.Data, ".bss"), (RelocationKind.Map, "flow_bytes"), (RelocationKind.Kconfig, "CONFIG_HZ"),
                (RelocationKind.Ksym, "tcp_slow_start"), (RelocationKind.Ksym, "tcp_slow_start"), (RelocationKind.Ksym, "tcp_reno_cong_avoid"),
            }));
            Assert.That(congAvoid.Relocations.Where(r => r.Kind == RelocationKind.Ksym).Select(r => r.Type),
                Is.EqualTo(new[] { BpfRelocationType.Bpf64_64, BpfRelocationType.Bpf64_32, BpfRelocationType.Bpf64_32 }));
            var call = ssthresh.Relocations.Single(r => r.Kind == RelocationKind.SubprogramCall);
            Assert.That((call.Target, call.TargetInstruction, call.Type), Is.EqualTo(("halve_cwnd", 0, BpfRelocationType.Bpf64_32)));
            Assert.That(ssthresh.Instructions[call.InstructionIndex].Src, Is.EqualTo(1));
            var data = spec.Programs.Single(p => p.Name == "test_set_state").Relocations[0];
            Assert.That((data.Kind, data.SymbolName, data.SymbolOffset), Is.EqualTo((RelocationKind.Data, "events_seen", 8UL)));
        });
    }

    [Test]
    public void Read_FullObject_DecodesBtfDefinedMaps()
    {
        var maps = TestObjects.Read("tcp_ca_full").Maps;
        Assert.Multiple(() =>
        {
            Assert.That(maps.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)), Is.EqualTo(new[]
            {
                ("flow_bytes", MapType.Hash, 4u, 8u, 64u, 0u),
                ("counters", MapType.Array, 4u, 16u, 4u, 0u),
                ("sk_state", (MapType)24, 4u, 8u, 0u, 1u),
            }));
            Assert.That(maps[0].KeyTypeId, Is.Not.Zero);
            Assert.That(maps[1].KeyTypeId, Is.Zero);
            Assert.That(maps.Select(m => m.SectionOffset), Is.EqualTo(new[] { 0UL, 32UL, 64UL }));
        });
    }

    [Test]
    public void Read_FullObject_GlobalDataWithSymbolOffsetsAndFixedDatasecs()
    {
        var spec = TestObjects.Read("tcp_ca_full");
        var bss = spec.DataSections.Single(d => d.Name == ".bss");
        var rodata = spec.DataSections.Single(d => d.Name == ".rodata");
        var datasec = (BtfDatasec)spec.Btf[bss.DatasecTypeId];
        Assert.Multiple(() =>
        {
            Assert.That((bss.IsBss, bss.Size, bss.Bytes.Length), Is.EqualTo((true, 56u, 0)));
            Assert.That(bss.Variables.Select(v => (v.Name, v.Offset, v.Size)), Is.EqualTo(new[] { ("acked_total", 0u, 4u), ("events_seen", 8u, 48u) }));
            Assert.That(rodata.IsReadOnly, Is.True);
            Assert.That(rodata.Bytes.AsSpan()[4..11].ToArray(), Is.EqualTo("test_ca"u8.ToArray()));
            Assert.That(spec.DataSections.Single(d => d.Name == ".data").Bytes, Is.EqualTo(new byte[] { 2, 0, 0, 0 }));
            Assert.That(datasec.Size, Is.EqualTo(56));
            Assert.That(datasec.Vars.Select(v => v.Offset), Is.EqualTo(new[] { 0u, 8u }));
        });
    }

    [Test]
    public void Read_FullObject_ExternsWithWeakness()
    {
        var spec = TestObjects.Read("tcp_ca_full");
        Assert.Multiple(() =>
        {
            Assert.That(spec.Externs.Select(e => (e.Name, e.Kind, e.IsWeak, e.IsFunction)), Is.EquivalentTo(new[]
            {
                ("CONFIG_HZ", ExternKind.Kconfig, false, false),
                ("tcp_slow_start", ExternKind.Ksym, true, true),
                ("tcp_reno_cong_avoid", ExternKind.Ksym, false, true),
            }));
            var kfunc = spec.Externs.Single(e => e.Name == "tcp_reno_cong_avoid");
            Assert.That(spec.Btf[kfunc.TypeId], Is.TypeOf<BtfFunc>());
            Assert.That(spec.Btf[((BtfFunc)spec.Btf[kfunc.TypeId]).Proto], Is.TypeOf<BtfFuncProto>());
            var hz = spec.Externs.Single(e => e.Name == "CONFIG_HZ");
            Assert.That(spec.Btf[spec.Btf.SkipModifiers(hz.TypeId)].Name, Is.EqualTo("unsigned long"));
        });
    }

    [Test]
    public void Read_FullObject_StructOpsVariablesMapMembersToPrograms()
    {
        var ops = TestObjects.Read("tcp_ca_full").StructOps;
        Assert.Multiple(() =>
        {
            Assert.That(ops.Select(o => (o.Name, o.IsLink, o.SectionOffset, o.TypeName)), Is.EqualTo(new[]
            {
                ("test_ca", false, 0u, "tcp_congestion_ops"), ("test_ca_mini", false, 152u, "tcp_congestion_ops"), ("test_ca_link", true, 0u, "tcp_congestion_ops"),
            }));
            Assert.That(ops[0].Programs.Select(kv => kv.Key + "=" + kv.Value), Is.EqualTo(new[]
            {
                "ssthresh=test_ssthresh", "cong_avoid=test_cong_avoid", "set_state=test_set_state", "cwnd_event=test_cwnd_event",
                "pkts_acked=test_pkts_acked", "undo_cwnd=test_undo_cwnd", "init=test_init",
            }));
            Assert.That(ops[1].Data.Length, Is.EqualTo(152));
            // name[16] sits at byte 88, after eleven function pointers; flags after owner, list and key.
            Assert.That(ops[1].Data.AsSpan()[88..100].ToArray(), Is.EqualTo("test_ca_mini"u8.ToArray()));
        });
    }

    [Test]
    public void Read_FullObject_AttachesCoreRelosRelativeToProgram()
    {
        var spec = TestObjects.Read("tcp_ca_full");
        var acked = spec.Programs.Single(p => p.Name == "test_pkts_acked");
        var setState = spec.Programs.Single(p => p.Name == "test_set_state");
        Assert.Multiple(() =>
        {
            Assert.That(acked.CoreRelos.Select(c => c.Kind), Is.SupersetOf(new[]
            {
                CoreReloKind.FieldByteOffset, CoreReloKind.FieldByteSize, CoreReloKind.FieldLShiftU64,
                CoreReloKind.FieldRShiftU64, CoreReloKind.FieldSigned,
            }));
            Assert.That(setState.CoreRelos.Select(c => c.Kind), Is.SupersetOf(new[]
            {
                CoreReloKind.TypeExists, CoreReloKind.TypeSize, CoreReloKind.EnumvalExists, CoreReloKind.EnumvalValue,
            }));
            Assert.That(spec.Programs.Single(p => p.Name == "test_init").CoreRelos[0].Kind, Is.EqualTo(CoreReloKind.FieldExists));
            Assert.That(acked.CoreRelos.All(c => c.InsnOffset >= 0 && c.InsnOffset < acked.Instructions.Length), Is.True);
        });
    }

    [TestCase("tcp_ca_nogpl", "X")]
    [TestCase("tcp_ca_full", "GPL")]
    public void Read_License_IsTheSectionString(string name, string license)
    {
        Assert.That(TestObjects.Read(name).License, Is.EqualTo(license));
    }

    [Test]
    public void Read_SectionsObject_KindsPerSectionAndCustomDataSections()
    {
        var spec = TestObjects.Read("sections");
        Assert.Multiple(() =>
        {
            Assert.That(spec.Programs.Select(p => (p.Name, p.SectionName, p.SectionKind)), Is.EqualTo(new[]
            {
                ("ops_init", "struct_ops.s/ops_init", ProgramSectionKind.StructOpsSleepable),
                ("ops_tick", "struct_ops/ops_tick", ProgramSectionKind.StructOps),
                ("pass_all", "xdp", ProgramSectionKind.Xdp),
            }));
            Assert.That(spec.Programs[0].IsSleepable, Is.True);
            Assert.That(spec.KernelVersion, Is.EqualTo(0x060c00u));
            Assert.That(spec.DataSections.Select(d => (d.Name, d.IsReadOnly)), Is.EqualTo(new[] { (".data.counters", false), (".rodata.limits", true) }));
            Assert.That(spec.StructOps.Single().Programs.Select(kv => kv.Key + "=" + kv.Value), Is.EqualTo(new[] { "init=ops_init", "tick=ops_tick" }));
            Assert.That(spec.StructOps.Single().TypeName, Is.EqualTo("test_ops"));
        });
    }

    [TestCase("struct_ops", ProgramSectionKind.StructOps)]
    [TestCase("struct_ops/dctcp_init", ProgramSectionKind.StructOps)]
    [TestCase("struct_ops.s/init", ProgramSectionKind.StructOpsSleepable)]
    [TestCase("xdp", ProgramSectionKind.Xdp)]
    [TestCase("kprobe/tcp_v4_connect", ProgramSectionKind.Kprobe)]
    [TestCase("kprobe", ProgramSectionKind.Unknown)]
    [TestCase("struct_opsx", ProgramSectionKind.Unknown)]
    [TestCase(".text", ProgramSectionKind.Text)]
    public void ClassifySection_Name_FollowsSectionDefs(string section, ProgramSectionKind expected)
    {
        Assert.That(BpfSim.Core.Ebpf.Elf.ObjectReader.ClassifySection(section), Is.EqualTo(expected));
    }
}
