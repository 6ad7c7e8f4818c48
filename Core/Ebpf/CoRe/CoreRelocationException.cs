namespace BpfSim.Core.Ebpf.CoRe;

/// <summary>
/// A CO-RE relocation that cannot be resolved or applied and must fail the load, where libbpf returns an error (not
/// the poisoning it uses for a missing field): a malformed access string, candidates that disagree, an instruction
/// the relocation cannot patch or whose value is not what the local BTF predicts.
/// </summary>
public sealed class CoreRelocationException(string message) : Exception(message);
