namespace BpfSim.Core.Bpf;

/// <summary>What an fd was opened for: a map created with BPF_F_RDONLY or BPF_F_WRONLY gets a one-way fd.</summary>
[Flags]
public enum FdMode
{
    None = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}
