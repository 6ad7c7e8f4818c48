using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.MultiProg.Mprog;

/// <summary>A program and the link that owns it, if any (struct bpf_tuple, include/linux/bpf_mprog.h).</summary>
public readonly record struct MprogTuple(BpfProgram? Prog, BpfLink? Link);
