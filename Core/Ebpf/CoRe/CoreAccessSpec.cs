using System.Globalization;
using System.Text;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Ebpf.CoRe;

/// <summary>
/// A parsed access string (struct bpf_core_spec, tools/lib/bpf/relo_core.h): the low-level spec (every index of the
/// string, anonymous members included), the high-level accessors (the array index into the root pointer, then each
/// named member or array index), and the bit offset they reach.
/// </summary>
internal sealed class CoreAccessSpec
{
    /// <summary>BPF_CORE_SPEC_MAX_LEN.</summary>
    public const int MaxLength = 64;

    public CoreAccessSpec(BtfSpec btf, uint rootTypeId, CoreReloKind kind)
    {
        Btf = btf;
        RootTypeId = rootTypeId;
        Kind = kind;
    }

    public BtfSpec Btf { get; }

    public uint RootTypeId { get; }

    public CoreReloKind Kind { get; }

    /// <summary>High-level accessors: (type id, index, name) — name null for an array index.</summary>
    public List<(uint TypeId, int Index, string? Name)> Accessors { get; } = [];

    /// <summary>The low-level spec: one index per level, anonymous members included.</summary>
    public List<int> Raw { get; } = [];

    public ulong BitOffset { get; set; }

    public static bool IsFieldBased(CoreReloKind kind) => kind <= CoreReloKind.FieldRShiftU64;

    public static bool IsTypeBased(CoreReloKind kind) =>
        kind is CoreReloKind.TypeIdLocal or CoreReloKind.TypeIdTarget or CoreReloKind.TypeExists or CoreReloKind.TypeMatches
            or CoreReloKind.TypeSize;

    public static bool IsEnumvalBased(CoreReloKind kind) => kind is CoreReloKind.EnumvalExists or CoreReloKind.EnumvalValue;

    /// <summary>
    /// bpf_core_parse_spec (relo_core.c): checks the access string against the local BTF and computes the bit offset.
    /// </summary>
    /// <exception cref="CoreRelocationException">The string is malformed or does not fit the local types.</exception>
    public static CoreAccessSpec Parse(BtfSpec btf, uint typeId, string access, CoreReloKind kind)
    {
        var spec = new CoreAccessSpec(btf, typeId, kind);
        if (string.IsNullOrEmpty(access) || access[0] == ':')
        {
            throw Fail(btf, typeId, access, "empty access string");
        }
        if (IsTypeBased(kind))
        {
            return access == "0" ? spec : throw Fail(btf, typeId, access, "a type-based relocation takes the access string \"0\"");
        }
        foreach (string part in access.Split(':'))
        {
            if (!int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index) || index < 0)
            {
                throw Fail(btf, typeId, access, $"'{part}' is not an index");
            }
            if (spec.Raw.Count == MaxLength)
            {
                throw Fail(btf, typeId, access, $"deeper than {MaxLength} levels");
            }
            spec.Raw.Add(index);
        }
        uint id = btf.SkipModifiers(typeId);
        var t = btf[id];
        int first = spec.Raw[0];
        if (IsEnumvalBased(kind))
        {
            if (t is not BtfEnum e || spec.Raw.Count > 1 || first >= e.Values.Count)
            {
                throw Fail(btf, typeId, access, "not an enumerator of an enum");
            }
            spec.Accessors.Add((id, first, e.Values[first].Name));
            return spec;
        }
        if (!IsFieldBased(kind))
        {
            throw Fail(btf, typeId, access, $"unknown relocation kind {(uint)kind}");
        }
        spec.Accessors.Add((id, first, null));
        spec.BitOffset = (ulong)first * SizeOf(btf, id, typeId, access) * 8;
        for (int i = 1; i < spec.Raw.Count; i++)
        {
            id = btf.SkipModifiers(id);
            int index = spec.Raw[i];
            switch (btf[id])
            {
                case BtfComposite c:
                    if (index >= c.Members.Count)
                    {
                        throw Fail(btf, typeId, access, $"member {index} of a composite with {c.Members.Count}");
                    }
                    var m = c.Members[index];
                    spec.BitOffset += m.BitOffset;
                    if (m.Name.Length > 0)
                    {
                        spec.Accessors.Add((id, index, m.Name));
                    }
                    id = m.Type;
                    break;
                case BtfArray a:
                    bool flex = spec.IsFlexArray(spec.Accessors[^1], a);
                    id = btf.SkipModifiers(a.ElementType);
                    if (!flex && index >= a.Count)
                    {
                        throw Fail(btf, typeId, access, $"index {index} of an array of {a.Count}");
                    }
                    spec.Accessors.Add((id, index, null));
                    spec.BitOffset += (ulong)index * SizeOf(btf, id, typeId, access) * 8;
                    break;
                case var other:
                    throw Fail(btf, typeId, access, $"index {i} reaches type [{id}] of kind {other.Kind}, which has no members");
            }
        }
        return spec;
    }

    /// <summary>is_flex_arr: a zero-length array that is the last member of the struct the accessor names.</summary>
    public bool IsFlexArray((uint TypeId, int Index, string? Name) accessor, BtfArray array) =>
        accessor.Name is not null && array.Count == 0 && Btf[accessor.TypeId] is BtfComposite c && accessor.Index == c.Members.Count - 1;

    /// <summary>bpf_core_format_spec: <c>[47] struct tcp_sock.snd_cwnd (0:0:1:0 @ offset 0)</c>.</summary>
    public override string ToString()
    {
        var t = Btf[RootTypeId];
        var sb = new StringBuilder();
        sb.Append('[').Append(RootTypeId).Append("] ").Append(t.Kind.ToString().ToLowerInvariant()).Append(' ')
            .Append(t.Name.Length > 0 ? t.Name : "<anon>");
        if (IsTypeBased(Kind))
        {
            return sb.ToString();
        }
        if (IsEnumvalBased(Kind))
        {
            return sb.Append("::").Append(Accessors[0].Name).ToString();
        }
        for (int i = 0; i < Accessors.Count; i++)
        {
            var a = Accessors[i];
            if (a.Name is not null)
            {
                sb.Append('.').Append(a.Name);
            }
            else if (i > 0 || a.Index > 0)
            {
                sb.Append('[').Append(a.Index).Append(']');
            }
        }
        sb.Append(" (").Append(string.Join(':', Raw)).Append(" @ offset ").Append(BitOffset / 8);
        if (BitOffset % 8 != 0)
        {
            sb.Append('.').Append(BitOffset % 8);
        }
        return sb.Append(')').ToString();
    }

    private static ulong SizeOf(BtfSpec btf, uint id, uint root, string access)
    {
        try
        {
            return btf.SizeOf(id);
        }
        catch (BtfException e)
        {
            throw Fail(btf, root, access, e.Message);
        }
    }

    private static CoreRelocationException Fail(BtfSpec btf, uint typeId, string access, string why)
    {
        string name = typeId < btf.Count && btf[typeId].Name.Length > 0 ? btf[typeId].Name : "<anon>";
        return new CoreRelocationException($"parsing [{typeId}] {name} + {access} failed: {why}");
    }
}
