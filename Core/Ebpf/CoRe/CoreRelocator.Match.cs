using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Core.Ebpf.CoRe;

// Matching a local spec to a candidate: bpf_core_spec_match, bpf_core_match_member, bpf_core_fields_are_compat,
// __bpf_core_types_are_compat and __bpf_core_types_match in tools/lib/bpf/relo_core.c.
public sealed partial class CoreRelocator
{
    private const int MaxDepth = 32;

    /// <summary>bpf_core_spec_match: the candidate's spec, or null when it does not match.</summary>
    private CoreAccessSpec? Match(CoreAccessSpec local, uint candidate)
    {
        var spec = new CoreAccessSpec(_target, candidate, local.Kind);
        if (CoreAccessSpec.IsTypeBased(local.Kind))
        {
            bool ok = local.Kind == CoreReloKind.TypeMatches
                ? TypesMatch(local.Btf, local.RootTypeId, candidate, behindPointer: false, MaxDepth)
                : TypesAreCompatible(local.Btf, local.RootTypeId, candidate, MaxDepth);
            return ok ? spec : null;
        }
        uint targetId = candidate;
        if (CoreAccessSpec.IsEnumvalBased(local.Kind))
        {
            targetId = _target.SkipModifiers(targetId);
            if (_target[targetId] is not BtfEnum e)
            {
                return null;
            }
            string name = local.Accessors[0].Name!;
            int essential = EssentialNameLength(name);
            for (int i = 0; i < e.Values.Count; i++)
            {
                string targetName = e.Values[i].Name;
                if (EssentialNameLength(targetName) == essential && string.CompareOrdinal(name, 0, targetName, 0, essential) == 0)
                {
                    spec.Accessors.Add((targetId, i, targetName));
                    spec.Raw.Add(i);
                    return spec;
                }
            }
            return null;
        }
        for (int i = 0; i < local.Accessors.Count; i++)
        {
            var acc = local.Accessors[i];
            targetId = _target.SkipModifiers(targetId);
            if (acc.Name is not null)
            {
                if (!MatchMember(local, acc, targetId, spec, out targetId))
                {
                    return null;
                }
                continue;
            }
            if (i > 0)
            {
                // An array index: the target must be an array long enough (or flexible).
                if (_target[targetId] is not BtfArray a)
                {
                    return null;
                }
                if (!spec.IsFlexArray(spec.Accessors[^1], a) && acc.Index >= a.Count)
                {
                    return null;
                }
                targetId = _target.SkipModifiers(a.ElementType);
            }
            if (spec.Raw.Count == CoreAccessSpec.MaxLength)
            {
                throw new CoreRelocationException($"{local}: the target nests deeper than {CoreAccessSpec.MaxLength} levels");
            }
            spec.Accessors.Add((targetId, acc.Index, null));
            spec.Raw.Add(acc.Index);
            spec.BitOffset += (ulong)acc.Index * _target.SizeOf(targetId) * 8;
        }
        return spec;
    }

    /// <summary>
    /// bpf_core_match_member: finds the local accessor's member by name in target composite <paramref name="targetId"/>,
    /// searching anonymous members depth first, and checks the two fields' types are compatible.
    /// </summary>
    private bool MatchMember(CoreAccessSpec local, (uint TypeId, int Index, string? Name) acc, uint targetId, CoreAccessSpec spec,
        out uint next)
    {
        next = 0;
        targetId = _target.SkipModifiers(targetId);
        if (_target[targetId] is not BtfComposite composite)
        {
            return false;
        }
        var localMember = ((BtfComposite)local.Btf[acc.TypeId]).Members[acc.Index];
        for (int i = 0; i < composite.Members.Count; i++)
        {
            var m = composite.Members[i];
            if (spec.Raw.Count == CoreAccessSpec.MaxLength)
            {
                throw new CoreRelocationException($"{local}: the target nests deeper than {CoreAccessSpec.MaxLength} levels");
            }
            // Speculate this member is the one; undo below if it is not.
            spec.BitOffset += m.BitOffset;
            spec.Raw.Add(i);
            if (m.Name.Length == 0)
            {
                if (MatchMember(local, acc, m.Type, spec, out next))
                {
                    return true;
                }
            }
            else if (m.Name == localMember.Name)
            {
                next = m.Type;
                if (FieldsCompatible(local.Btf, localMember.Type, m.Type))
                {
                    spec.Accessors.Add((targetId, i, m.Name));
                    return true;
                }
                // A field of the same name but another type: this candidate does not match (libbpf stops here too).
                return false;
            }
            spec.BitOffset -= m.BitOffset;
            spec.Raw.RemoveAt(spec.Raw.Count - 1);
        }
        return false;
    }

    /// <summary>btf_kind_core_compat: the same kind, or both enums (ENUM and ENUM64).</summary>
    private static bool KindsCompatible(BtfType a, BtfType b) =>
        a.Kind == b.Kind || (a.Kind is BtfKind.Enum or BtfKind.Enum64 && b.Kind is BtfKind.Enum or BtfKind.Enum64);

    /// <summary>
    /// bpf_core_fields_are_compat: any two composites, any two pointers or floats, enums and forward declarations with
    /// the same essential name (or one anonymous), integers that are not old-style bitfield integers, arrays of
    /// compatible elements.
    /// </summary>
    private bool FieldsCompatible(BtfSpec localBtf, uint localId, uint targetId)
    {
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            var l = localBtf[localBtf.SkipModifiers(localId)];
            var t = _target[_target.SkipModifiers(targetId)];
            if (l is BtfComposite && t is BtfComposite)
            {
                return true;
            }
            if (!KindsCompatible(l, t))
            {
                return false;
            }
            switch (l)
            {
                case BtfPtr or BtfFloat:
                    return true;
                case BtfFwd or BtfEnum:
                    int ll = EssentialNameLength(l.Name);
                    int tl = EssentialNameLength(t.Name);
                    return ll == 0 || tl == 0 || (ll == tl && string.CompareOrdinal(l.Name, 0, t.Name, 0, ll) == 0);
                case BtfInt li:
                    return li.BitOffset == 0 && ((BtfInt)t).BitOffset == 0;
                case BtfArray la:
                    localId = la.ElementType;
                    targetId = ((BtfArray)t).ElementType;
                    continue;
                default:
                    return false;
            }
        }
        throw new CoreRelocationException($"local type [{localId}]: arrays nested deeper than {MaxDepth}");
    }

    /// <summary>
    /// __bpf_core_types_are_compat, for TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET: kinds agree, composites and enums
    /// by name only, pointers and arrays by what they point to, prototypes by every parameter and the return type.
    /// </summary>
    private bool TypesAreCompatible(BtfSpec localBtf, uint localId, uint targetId, int level)
    {
        if (!KindsCompatible(localBtf[localId], _target[targetId]))
        {
            return false;
        }
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            localId = localBtf.SkipModifiers(localId);
            targetId = _target.SkipModifiers(targetId);
            var l = localBtf[localId];
            var t = _target[targetId];
            if (!KindsCompatible(l, t))
            {
                return false;
            }
            switch (l)
            {
                case BtfVoid or BtfComposite or BtfEnum or BtfFwd:
                    return true;
                case BtfInt li:
                    return li.BitOffset == 0 && ((BtfInt)t).BitOffset == 0;
                case BtfPtr lp:
                    localId = lp.Type;
                    targetId = ((BtfPtr)t).Type;
                    continue;
                case BtfArray la:
                    localId = la.ElementType;
                    targetId = ((BtfArray)t).ElementType;
                    continue;
                case BtfFuncProto lf:
                    var tf = (BtfFuncProto)t;
                    if (lf.Params.Count != tf.Params.Count)
                    {
                        return false;
                    }
                    for (int i = 0; i < lf.Params.Count; i++)
                    {
                        if (level <= 0)
                        {
                            throw new CoreRelocationException($"local type [{localId}]: prototypes nested deeper than {MaxDepth}");
                        }
                        if (!TypesAreCompatible(localBtf, localBtf.SkipModifiers(lf.Params[i].Type), _target.SkipModifiers(tf.Params[i].Type), level - 1))
                        {
                            return false;
                        }
                    }
                    localId = lf.ReturnType;
                    targetId = tf.ReturnType;
                    continue;
                default:
                    return false;
            }
        }
        throw new CoreRelocationException($"local type [{localId}]: types nested deeper than {MaxDepth}");
    }

    /// <summary>
    /// __bpf_core_types_match, for TYPE_MATCHES (bpf_core_type_matches): names agree at every level, integers by size
    /// and sign, enums by every local enumerator's name, composites by every local member (by name only behind a
    /// pointer, where a forward declaration of the same kind also matches), arrays by length, prototypes by arity.
    /// </summary>
    private bool TypesMatch(BtfSpec localBtf, uint localId, uint targetId, bool behindPointer, int level)
    {
        if (level <= 0)
        {
            throw new CoreRelocationException($"local type [{localId}]: types nested deeper than {MaxDepth}");
        }
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            localId = localBtf.SkipModifiers(localId);
            targetId = _target.SkipModifiers(targetId);
            var l = localBtf[localId];
            var t = _target[targetId];
            if (!NamesMatch(l.Name, t.Name))
            {
                return false;
            }
            switch (l)
            {
                case BtfVoid:
                    return t is BtfVoid;
                case BtfFwd lf:
                    if (behindPointer && t is BtfComposite tc)
                    {
                        return tc.IsUnion == lf.IsUnion;
                    }
                    return t is BtfFwd tfw && tfw.IsUnion == lf.IsUnion;
                case BtfEnum le:
                    return t is BtfEnum te && EnumsMatch(le, te);
                case BtfComposite lc:
                    if (behindPointer)
                    {
                        return t.Kind == l.Kind || (t is BtfFwd tfwd && tfwd.IsUnion == lc.IsUnion);
                    }
                    return t is BtfComposite tcomp && tcomp.Kind == lc.Kind && CompositesMatch(localBtf, lc, tcomp, level);
                case BtfInt li:
                    return t is BtfInt ti && li.Size == ti.Size && li.IsSigned == ti.IsSigned;
                case BtfPtr lp when t is BtfPtr tp:
                    behindPointer = true;
                    localId = lp.Type;
                    targetId = tp.Type;
                    continue;
                case BtfArray la when t is BtfArray ta:
                    if (la.Count != ta.Count)
                    {
                        return false;
                    }
                    localId = la.ElementType;
                    targetId = ta.ElementType;
                    continue;
                case BtfFuncProto lfp when t is BtfFuncProto tfp:
                    if (lfp.Params.Count != tfp.Params.Count)
                    {
                        return false;
                    }
                    for (int i = 0; i < lfp.Params.Count; i++)
                    {
                        if (!TypesMatch(localBtf, lfp.Params[i].Type, tfp.Params[i].Type, behindPointer, level - 1))
                        {
                            return false;
                        }
                    }
                    localId = lfp.ReturnType;
                    targetId = tfp.ReturnType;
                    continue;
                default:
                    return false;
            }
        }
        throw new CoreRelocationException($"local type [{localId}]: types nested deeper than {MaxDepth}");
    }

    private bool CompositesMatch(BtfSpec localBtf, BtfComposite local, BtfComposite target, int level)
    {
        if (local.Members.Count > target.Members.Count)
        {
            return false;
        }
        foreach (var lm in local.Members)
        {
            bool matched = false;
            foreach (var tm in target.Members)
            {
                if (NamesMatch(lm.Name, tm.Name) && TypesMatch(localBtf, lm.Type, tm.Type, behindPointer: false, level - 1))
                {
                    matched = true;
                    break;
                }
            }
            if (!matched)
            {
                return false;
            }
        }
        return true;
    }

    private static bool EnumsMatch(BtfEnum local, BtfEnum target) =>
        local.Size == target.Size && local.Values.Count <= target.Values.Count
        && local.Values.All(lv => target.Values.Any(tv => NamesMatch(lv.Name, tv.Name)));

    /// <summary>bpf_core_names_match: equal essential names; an anonymous target matches only an anonymous local.</summary>
    private static bool NamesMatch(string local, string target)
    {
        if (target.Length == 0)
        {
            return local.Length == 0;
        }
        int tl = EssentialNameLength(target);
        return tl == EssentialNameLength(local) && string.CompareOrdinal(local, 0, target, 0, tl) == 0;
    }
}
