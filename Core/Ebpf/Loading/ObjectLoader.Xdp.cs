using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Loading;

public static partial class ObjectLoader
{
    /// <summary>
    /// The BPF_PROG_LOAD attributes of an XDP program <see cref="LoadXdpProgram"/> returned: its name, the object's
    /// license, the expected_attach_type its section gives, and its bytecode run per packet.
    /// </summary>
    public static ProgramSpec XdpProgramSpec(BytecodeProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return new ProgramSpec
        {
            Type = ProgramType.Xdp, Name = BpfSystem.ToObjectName(program.Name), License = program.Object.Spec.License,
            Body = (PacketProgramFunc)program.RunPacket, Bytecode = program,
            ExpectedAttachType = program.Object.Spec.Programs.First(p => p.Name == program.Name).ExpectedAttachType,
        };
    }

    /// <summary>
    /// Loads the XDP program <paramref name="programName"/> (SEC("xdp"), SEC("xdp/NAME")) of <paramref name="obj"/>, or
    /// its only XDP program when the name is null: relocated and linked like a struct_ops program, with the helpers of
    /// xdp_func_proto (<see cref="XdpHelpers"/>). A program loaded already is returned again.
    /// </summary>
    /// <returns>
    /// EINVAL when there is no such program, several XDP programs and no name, or the program is not in an XDP
    /// section (libbpf would load it as another type); the relocation and check errors of a struct_ops program.
    /// </returns>
    public static BpfResult LoadXdpProgram(BpfSystem bpf, LoadedObject obj, string? programName, out BytecodeProgram? loaded)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(obj);
        loaded = null;
        var spec = obj.Spec;
        var xdp = spec.Programs.Where(p => p.SectionKind == ProgramSectionKind.Xdp).ToList();
        ObjectProgram? program;
        if (programName is null)
        {
            if (xdp.Count != 1)
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad, xdp.Count == 0
                    ? $"{obj.Source} has no XDP program (SEC(\"xdp\"))"
                    : $"{obj.Source} has {xdp.Count} XDP programs ({string.Join(", ", xdp.Select(p => p.Name))}): name one");
            }
            program = xdp[0];
        }
        else
        {
            program = spec.Programs.FirstOrDefault(p => p.Name == programName);
            if (program is null)
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"{obj.Source} has no program {programName}" +
                    (xdp.Count > 0 ? $"; its XDP programs: {string.Join(", ", xdp.Select(p => p.Name))}" : ""));
            }
            if (program.SectionKind != ProgramSectionKind.Xdp)
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad,
                    $"program {program.Name} in section {program.SectionName} is not an XDP program (BPF_PROG_TYPE_XDP needs SEC(\"xdp\"))");
            }
        }
        if (obj.Programs.TryGetValue(program.Name, out var existing))
        {
            loaded = existing;
            return BpfResult.Ok;
        }
        var kernelBtf = bpf.KernelBtf;
        obj.PacketRegions();
        var r = LoadProgram(spec, obj, kernelBtf is null ? null : new CoreRelocator(kernelBtf), null, XdpBytecodeSupport.Instance, program, out loaded);
        if (r.IsOk)
        {
            obj.AddProgram(loaded!);
        }
        return r;
    }
}
