namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// The body of a packet program (BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, and an EXT program replacing one of
/// their functions): it reads and may change the packet, and returns an action (<see cref="XdpAction"/> for XDP,
/// <see cref="TcxAction"/> for tcx).
/// </summary>
public delegate int PacketProgramFunc(ref PacketContext ctx);
