namespace BpfSim.Core.Ebpf.Elf;

/// <summary>A BPF object that is not a well-formed ELF64 little-endian EM_BPF relocatable file, or breaks libbpf's conventions.</summary>
public sealed class ObjectFormatException : Exception
{
    public ObjectFormatException(string message)
        : base(message)
    {
    }

    public ObjectFormatException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
