namespace BpfSim.Core.Ebpf.CoRe;

/// <summary>
/// What a CO-RE relocation resolved to (struct bpf_core_relo_res, tools/lib/bpf/relo_core.h): the value to put in
/// the instruction, or <see cref="Poison"/> when the field or enumerator is missing from the kernel, in which case
/// <see cref="CoreRelocator.Apply"/> turns the instruction into <c>call 0xbad2310</c> so that only reaching it fails.
/// </summary>
/// <param name="Value">The relocated value (new_val): an offset, size, shift, 0/1, type id or enumerator value.</param>
/// <param name="Poison">No kernel candidate matched (or a load's size cannot be adjusted): poison the instruction.</param>
/// <param name="Message">How it was resolved, in libbpf's spec notation, for logs and errors.</param>
public sealed record CoreResult(ulong Value, bool Poison, string Message)
{
    /// <summary>The value computed against the local BTF (orig_val): what clang put in the instruction.</summary>
    public ulong OriginalValue { get; init; }

    /// <summary>Whether the instruction must hold <see cref="OriginalValue"/> before patching (false for bitfields and type ids).</summary>
    public bool Validate { get; init; } = true;

    /// <summary>The field's size in the local BTF, for a load or store of a non-bitfield field (0 otherwise).</summary>
    public uint OriginalSize { get; init; }

    /// <summary>The field's size in the kernel BTF; a load or store is resized to it when it differs.</summary>
    public uint NewSize { get; init; }

    /// <summary>The sizes differ and the field is neither a pointer nor an unsigned integer: a load or store is poisoned.</summary>
    public bool FailMemSizeAdjust { get; init; }
}
