using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Ebpf.CoRe;

/// <summary>
/// Resolves CO-RE relocations of a BPF object against a target BTF (bpfsim's kernel BTF) as libbpf does
/// (tools/lib/bpf/relo_core.c, bpf_core_calc_relo_insn; candidates as bpf_core_add_cands in libbpf.c), and patches
/// the instruction as bpf_core_patch_insn does.
/// </summary>
/// <remarks>
/// Candidates are the target types of a compatible kind whose names equal the local name up to a <c>___flavor</c>
/// suffix. Each is matched by field names (through anonymous members); every matching candidate must give the same
/// offset and value. With no match, existence kinds give 0 and the rest poison the instruction. libbpf also prunes
/// its per-type candidate cache after each relocation; bpfsim's kernel BTF has one type per name, so that cannot
/// change a result here, and every relocation is resolved on its own.
/// </remarks>
public sealed partial class CoreRelocator
{
    /// <summary>The helper number libbpf's poisoned instruction calls: 0xbad2310, "bad relo".</summary>
    public const int PoisonHelper = 195896080;

    private readonly BtfSpec _target;

    /// <param name="target">The BTF relocations resolve against: bpfsim's kernel BTF.</param>
    public CoreRelocator(BtfSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = target;
    }

    /// <summary>Resolves <paramref name="relocation"/> against the target BTF.</summary>
    /// <returns>The value to patch in, or a poison result when the field or enumerator does not exist in the target.</returns>
    /// <exception cref="CoreRelocationException">
    /// The access string is malformed, the root type is anonymous, candidates disagree (ambiguity), or the kind cannot
    /// be computed for the field (a bitfield no 8-byte load covers, a non-offset relocation on an array element).
    /// </exception>
    public CoreResult Resolve(CoreRelocation relocation)
    {
        ArgumentNullException.ThrowIfNull(relocation);
        var local = relocation.LocalBtf;
        var localType = local[relocation.LocalTypeId];
        var localSpec = CoreAccessSpec.Parse(local, relocation.LocalTypeId, relocation.AccessString, relocation.Kind);

        if (relocation.Kind == CoreReloKind.TypeIdLocal)
        {
            // Needs no candidate; the id may have changed since compilation, so the instruction is not checked.
            return new CoreResult(relocation.LocalTypeId, false, $"<local_type_id> {localSpec}")
            {
                OriginalValue = relocation.LocalTypeId,
                Validate = false,
            };
        }
        if (localType.Name.Length == 0)
        {
            throw new CoreRelocationException($"<{relocation.Kind}> {localSpec}: relocations of anonymous types are not supported");
        }

        CoreResult? result = null;
        CoreAccessSpec? chosen = null;
        foreach (uint candidate in Candidates(localType))
        {
            var candidateSpec = Match(localSpec, candidate);
            if (candidateSpec is null)
            {
                continue;
            }
            var r = Calculate(relocation.Kind, localSpec, candidateSpec);
            if (result is null || chosen is null)
            {
                result = r;
                chosen = candidateSpec;
            }
            else if (candidateSpec.BitOffset != chosen.BitOffset)
            {
                throw new CoreRelocationException(
                    $"<{relocation.Kind}> {localSpec}: field offset ambiguity: {candidateSpec} != {chosen}");
            }
            else if (r.Poison != result.Poison || r.Value != result.Value)
            {
                throw new CoreRelocationException(
                    $"<{relocation.Kind}> {localSpec}: relocation decision ambiguity: {r.Value} ({candidateSpec}) != {result.Value} ({chosen})");
            }
        }
        return result ?? Calculate(relocation.Kind, localSpec, null);
    }

    /// <summary>bpf_core_add_cands: target types of a compatible kind with the same essential name, in id order.</summary>
    private IEnumerable<uint> Candidates(BtfType localType)
    {
        int essential = EssentialNameLength(localType.Name);
        foreach (var (id, t) in _target.All())
        {
            if (!KindsCompatible(t, localType) || t.Name.Length == 0)
            {
                continue;
            }
            if (EssentialNameLength(t.Name) == essential && string.CompareOrdinal(t.Name, 0, localType.Name, 0, essential) == 0)
            {
                yield return id;
            }
        }
    }

    /// <summary>
    /// bpf_core_essential_name_len: the length of a name without its flavor, the part after the last
    /// <c>X___Y</c> triple underscore (X and Y not underscores): <c>tcp_sock___local</c> is <c>tcp_sock</c>.
    /// </summary>
    public static int EssentialNameLength(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = name.Length - 5; i >= 0; i--)
        {
            if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
            {
                return i + 1;
            }
        }
        return name.Length;
    }

    /// <summary>bpf_core_calc_relo: the local (orig) and target (new) values, and whether a load may change size.</summary>
    private static CoreResult Calculate(CoreReloKind kind, CoreAccessSpec local, CoreAccessSpec? target)
    {
        string message = target is null
            ? $"<{kind}> {local}: no matching target in the kernel BTF"
            : $"<{kind}> {local} => {target}";
        if (CoreAccessSpec.IsFieldBased(kind))
        {
            var orig = CalculateField(kind, local);
            var next = CalculateField(kind, target);
            if (next.Poison)
            {
                return new CoreResult(0, true, message) { OriginalValue = orig.Value };
            }
            bool failAdjust = false;
            if (orig.Size != next.Size)
            {
                // Only a pointer or an unsigned integer reads the same value with a narrower or wider load.
                var origType = local.Btf[orig.TypeId];
                var newType = target!.Btf[next.TypeId];
                bool pointers = origType is BtfPtr && newType is BtfPtr;
                bool unsignedInts = origType is BtfInt oi && newType is BtfInt ni
                    && oi.Encoding != BtfIntEncoding.Signed && ni.Encoding != BtfIntEncoding.Signed;
                failAdjust = !pointers && !unsignedInts;
            }
            return new CoreResult(next.Value, false, message)
            {
                OriginalValue = orig.Value,
                Validate = orig.Validate,
                OriginalSize = orig.Size,
                NewSize = next.Size,
                FailMemSizeAdjust = failAdjust,
            };
        }
        if (CoreAccessSpec.IsTypeBased(kind))
        {
            var (origValue, validate) = CalculateType(kind, local);
            var (newValue, _) = CalculateType(kind, target);
            return new CoreResult(newValue, false, message) { OriginalValue = origValue, Validate = validate };
        }
        ulong? origEnum = CalculateEnumval(kind, local);
        ulong? newEnum = CalculateEnumval(kind, target);
        return newEnum is ulong v
            ? new CoreResult(v, false, message) { OriginalValue = origEnum ?? 0 }
            : new CoreResult(0, true, message) { OriginalValue = origEnum ?? 0 };
    }

    /// <summary>bpf_core_calc_field_relo for one side; Poison when the field is missing and the kind needs it.</summary>
    private static (ulong Value, uint Size, uint TypeId, bool Validate, bool Poison) CalculateField(CoreReloKind kind, CoreAccessSpec? spec)
    {
        if (kind == CoreReloKind.FieldExists)
        {
            return (spec is null ? 0UL : 1UL, 0, 0, true, false);
        }
        if (spec is null)
        {
            return (0, 0, 0, true, true);
        }
        var btf = spec.Btf;
        var acc = spec.Accessors[^1];
        if (acc.Name is null)
        {
            // An array element: only its offset and size are meaningful.
            return kind switch
            {
                CoreReloKind.FieldByteOffset => (spec.BitOffset / 8, (uint)btf.SizeOf(acc.TypeId), acc.TypeId, true, false),
                CoreReloKind.FieldByteSize => (btf.SizeOf(acc.TypeId), 0, 0, true, false),
                _ => throw new CoreRelocationException($"<{kind}> {spec}: cannot be applied to an array element"),
            };
        }
        var member = ((BtfComposite)btf[acc.TypeId]).Members[acc.Index];
        uint fieldTypeId = btf.SkipModifiers(member.Type);
        var fieldType = btf[fieldTypeId];
        ulong bitOff = spec.BitOffset;
        ulong bitSize = member.BitfieldSize;
        bool bitfield = bitSize > 0;
        ulong byteSize;
        ulong byteOff;
        if (bitfield)
        {
            // The smallest naturally aligned load, from the field type's size up to 8 bytes, that covers the bits.
            byteSize = fieldType switch
            {
                BtfInt i => i.Size,
                BtfEnum e => e.Size,
                _ => throw new CoreRelocationException($"<{kind}> {spec}: a bitfield of kind {fieldType.Kind}"),
            };
            byteOff = bitOff / 8 / byteSize * byteSize;
            while (bitOff + bitSize - byteOff * 8 > byteSize * 8)
            {
                if (byteSize >= 8)
                {
                    throw new CoreRelocationException($"<{kind}> {spec}: no 64-bit load covers the bitfield");
                }
                byteSize *= 2;
                byteOff = bitOff / 8 / byteSize * byteSize;
            }
        }
        else
        {
            byteSize = btf.SizeOf(fieldTypeId);
            byteOff = bitOff / 8;
            bitSize = byteSize * 8;
        }
        // For bitfields the compiler may have chosen another load, so only signedness and the right shift are checked.
        return kind switch
        {
            CoreReloKind.FieldByteOffset => (byteOff, bitfield ? 0u : (uint)byteSize, bitfield ? 0u : fieldTypeId, !bitfield, false),
            CoreReloKind.FieldByteSize => (byteSize, 0, 0, !bitfield, false),
            CoreReloKind.FieldSigned => (fieldType is BtfEnum { IsSigned: true } or BtfInt { IsSigned: true } ? 1UL : 0UL, 0, 0, true, false),
            // Little-endian: shift the field's top bit up to bit 63 of the loaded value.
            CoreReloKind.FieldLShiftU64 => (64 - (bitOff + bitSize - byteOff * 8), 0, 0, !bitfield, false),
            CoreReloKind.FieldRShiftU64 => (64 - bitSize, 0, 0, true, false),
            _ => throw new CoreRelocationException($"unknown field relocation kind {(uint)kind}"),
        };
    }

    /// <summary>bpf_core_calc_type_relo: 0 when the type is missing.</summary>
    private static (ulong Value, bool Validate) CalculateType(CoreReloKind kind, CoreAccessSpec? spec)
    {
        if (spec is null)
        {
            return (0, true);
        }
        return kind switch
        {
            // A type id can change when objects are linked, so it is not checked against the instruction.
            CoreReloKind.TypeIdTarget => (spec.RootTypeId, false),
            CoreReloKind.TypeExists or CoreReloKind.TypeMatches => (1, true),
            CoreReloKind.TypeSize => (spec.Btf.SizeOf(spec.RootTypeId), true),
            _ => throw new CoreRelocationException($"unknown type relocation kind {(uint)kind}"),
        };
    }

    /// <summary>bpf_core_calc_enumval_relo: null when the value is needed and the enumerator is missing (poison).</summary>
    private static ulong? CalculateEnumval(CoreReloKind kind, CoreAccessSpec? spec)
    {
        if (kind == CoreReloKind.EnumvalExists)
        {
            return spec is null ? 0UL : 1UL;
        }
        if (spec is null)
        {
            return null;
        }
        var acc = spec.Accessors[0];
        var e = (BtfEnum)spec.Btf[acc.TypeId];
        long value = e.Values[acc.Index].Value;
        // A 32-bit enumerator is an s32 in struct btf_enum, which libbpf widens with its sign.
        return e.Is64 ? (ulong)value : (ulong)(long)(int)value;
    }
}
