using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// A consumer that sets data members of its struct_ops value beyond <c>name</c> and <c>flags</c> (which come from
/// <see cref="StructOpsAttribute"/>), as a C initialiser of the <c>SEC(".struct_ops")</c> variable would — e.g.
/// sched_ext_ops' <c>timeout_ms</c>. The loader calls it after writing name and flags; init_member checks the result.
/// </summary>
public interface IStructOpsData
{
    /// <summary>Writes member values into <paramref name="data"/> (the struct's bytes, at the members' offsets).</summary>
    void WriteData(StructOpsType type, Span<byte> data);
}
