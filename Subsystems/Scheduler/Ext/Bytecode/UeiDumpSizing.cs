using System.Buffers.Binary;
using System.Collections.Immutable;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Scheduler.Ext.Bytecode;

/// <summary>
/// What tools/sched_ext's user space does before loading a scheduler (SCX_OPS_LOAD → UEI_SET_SIZE in
/// include/scx/user_exit_info.h and compat.h): for an exit record <c>NAME</c> declared with UEI_DEFINE — a
/// <c>char NAME_dump[1]</c> alone in section <c>.data.NAME_dump</c> and a <c>const volatile u32 NAME_dump_len</c> —
/// the dump section is resized to the ops' <c>exit_dump_len</c> (SCX_EXIT_DUMP_DFL_LEN, 32768, when 0) and the length
/// is written to <c>NAME_dump_len</c>, so UEI_RECORD's bpf_probe_read_kernel_str copies the debug dump.
/// </summary>
internal static class UeiDumpSizing
{
    private const uint DumpDefaultLength = 32768; // SCX_EXIT_DUMP_DFL_LEN

    public static ObjectSpec Apply(ObjectSpec spec)
    {
        var ops = spec.StructOps.FirstOrDefault(v => v.TypeName == SchedExtOpsType.TypeName);
        if (ops is null)
        {
            return spec;
        }
        uint length = ExitDumpLen(spec.Btf, ops) is uint n and > 0 ? n : DumpDefaultLength;
        var sections = spec.DataSections.ToList();
        bool changed = false;
        for (int i = 0; i < sections.Count; i++)
        {
            var d = sections[i];
            if (!d.Name.StartsWith(".data.", StringComparison.Ordinal) || !d.Name.EndsWith("_dump", StringComparison.Ordinal)
                || d.Variables is not [{ } array] || array.Name != d.Name[".data.".Length..] || array.Offset != 0)
            {
                continue;
            }
            int ro = sections.FindIndex(s => s.Name == ".rodata" && s.Variables.Any(v => v.Name == array.Name + "_len" && v.Size == 4));
            if (ro < 0)
            {
                continue;
            }
            var rodata = sections[ro];
            var lenVar = rodata.Variables.First(v => v.Name == array.Name + "_len");
            var bytes = rodata.Bytes.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)lenVar.Offset), length);
            sections[ro] = rodata with { Bytes = ImmutableArray.Create(bytes) };
            sections[i] = d with { Size = length, Bytes = ImmutableArray.Create(new byte[length]), Variables = [array with { Size = length }] };
            changed = true;
        }
        return changed ? spec with { DataSections = sections } : spec;
    }

    /// <summary>The ops variable's exit_dump_len, read with the member's offset in the object's own BTF.</summary>
    private static uint? ExitDumpLen(BtfSpec btf, ObjectStructOps ops)
    {
        if (btf[btf.SkipModifiers(ops.TypeId)] is not BtfComposite c || c.Members.FirstOrDefault(m => m.Name == "exit_dump_len") is not { } m)
        {
            return null;
        }
        int offset = (int)(m.BitOffset / 8);
        return offset + 4 <= ops.Data.Length ? BinaryPrimitives.ReadUInt32LittleEndian(ops.Data.AsSpan()[offset..]) : null;
    }
}
