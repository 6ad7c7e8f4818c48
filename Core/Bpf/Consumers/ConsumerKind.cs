namespace BpfSim.Core.Bpf.Consumers;

/// <summary>What a consumer plugs into: a struct_ops type, or an XDP hook.</summary>
public enum ConsumerKind
{
    /// <summary>A struct_ops implementation (<see cref="StructOpsAttribute"/>, or a BPF object's struct_ops variable).</summary>
    StructOps,
    /// <summary>An XDP program written in C# (<see cref="XdpProgramAttribute"/>), attached to an interface.</summary>
    Xdp,
}
