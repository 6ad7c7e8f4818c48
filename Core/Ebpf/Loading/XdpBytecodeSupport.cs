using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>What XDP programs get (xdp_func_proto): <see cref="XdpHelpers"/>, no kfuncs; the packet is theirs to write.</summary>
internal sealed class XdpBytecodeSupport : BytecodeSupport
{
    public static readonly XdpBytecodeSupport Instance = new();

    public override BpfFunction? Helper(int id, StructOpsMember member, out string refusal)
    {
        var fn = XdpHelpers.For(id);
        refusal = fn is null ? $"program of this type cannot use helper {Asm.HelperNames.TryGetName(id) ?? "unknown"}#{id}" : "";
        return fn;
    }

    public override BpfFunction? Kfunc(string name, StructOpsMember member, out bool exists, out string refusal)
    {
        exists = false;
        refusal = $"bpfsim's XDP programs have no kfuncs ({name})";
        return null;
    }

    public override WriteFilter? ArgumentWrites(StructOpsMember member, int argument) => null;

    public override Delegate? Trampoline(StructOpsMember member, BytecodeProgram program) =>
        throw new NotSupportedException("an XDP program runs through BytecodeProgram.RunPacket, not a struct_ops trampoline");
}
