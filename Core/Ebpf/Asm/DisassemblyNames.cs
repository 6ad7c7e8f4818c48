namespace BpfSim.Core.Ebpf.Asm;

/// <summary>
/// Callbacks the disassembler asks for names it cannot know itself (bpftool's <c>cb_call</c> and <c>cb_imm</c>,
/// tools/bpf/bpftool/xlated_dumper.c). A callback returning null leaves the disassembler's own text.
/// </summary>
public sealed class DisassemblyNames
{
    /// <summary>
    /// Names a helper whose id Linux 6.12 does not define (ids it defines always print as the kernel names them).
    /// </summary>
    public Func<int, string?>? Helper { get; init; }

    /// <summary>Names a kfunc by the imm of its call (bpfsim: the index the loader assigned).</summary>
    public Func<int, string?>? Kfunc { get; init; }

    /// <summary>
    /// The right-hand side of a 64-bit immediate load, given both slots (e.g. <c>map[id:5][0]+0</c> for a map value
    /// the loader resolved). Without it the text follows bpftool's print_imm.
    /// </summary>
    public Func<Instruction, Instruction, string?>? Immediate64 { get; init; }
}
