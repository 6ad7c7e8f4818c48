using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Hosting;

/// <summary>A subsystem's contribution to every new <see cref="BpfSystem"/>: its struct_ops type, bound to that system.</summary>
public interface IStructOpsTypeProvider
{
    StructOpsType Create(BpfSystem system);
}
