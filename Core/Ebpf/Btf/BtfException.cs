namespace BpfSim.Core.Ebpf.Btf;

/// <summary>BTF that is malformed or does not contain what was asked of it.</summary>
public sealed class BtfException(string message) : Exception(message);
