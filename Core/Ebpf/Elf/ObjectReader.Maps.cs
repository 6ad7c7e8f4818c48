using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Elf;

public static partial class ObjectReader
{
    /// <summary>The maps of the <c>.maps</c> DATASEC, as bpf_object__init_user_btf_maps reads them.</summary>
    private static List<ObjectMap> ReadMaps(Context context)
    {
        var result = new List<ObjectMap>();
        var section = context.Image.Find(MapsSection);
        if (section == null)
        {
            return result;
        }
        if (context.Image.RelocationsOf(section).Count > 0)
        {
            // libbpf's bpf_object__collect_map_relos turns these into init_slots (`.values = { [i] = &inner }`);
            // bpfsim does not, and ignoring them would leave the slots silently empty.
            throw new ObjectFormatException($"{context.Name}: section '.maps' has relocations (static .values initialisers of a map-in-map " +
                "or prog array), which bpfsim does not support: fill the slots from user space");
        }
        uint? datasecId = context.Btf.Find(MapsSection, BtfKind.Datasec);
        if (datasecId == null)
        {
            throw new ObjectFormatException($"{context.Name}: section '.maps' has no BTF DATASEC (compile with -g)");
        }
        foreach (var info in ((BtfDatasec)context.Btf[datasecId.Value]).Vars)
        {
            var v = (BtfVar)context.Btf[info.Type];
            string where = $"{context.Name}: map '{v.Name}'";
            if (v.Linkage is not (BtfLinkage.Global or BtfLinkage.Static))
            {
                throw new ObjectFormatException($"{where}: unsupported linkage {v.Linkage}");
            }
            if (context.Btf[context.Btf.SkipModifiers(v.Type)] is not BtfComposite { IsUnion: false } def)
            {
                throw new ObjectFormatException($"{where}: the definition is a {context.Btf[context.Btf.SkipModifiers(v.Type)].Kind}, not a struct");
            }
            result.Add(ParseMapDef(context, v.Name, def, isInner: false) with { SectionOffset = info.Offset, BtfVarId = info.Type });
        }
        return result;
    }

    /// <summary>One map definition struct, member by member, as libbpf's parse_btf_map_def.</summary>
    private static ObjectMap ParseMapDef(Context context, string name, BtfComposite def, bool isInner)
    {
        var btf = context.Btf;
        string where = $"{context.Name}: map '{name}'";
        uint type = 0, maxEntries = 0, flags = 0, numaNode = 0, pinning = 0, keySize = 0, valueSize = 0, keyTypeId = 0, valueTypeId = 0;
        ulong mapExtra = 0;
        bool hasKeySize = false, hasValueSize = false;
        ObjectMap? inner = null;
        for (int i = 0; i < def.Members.Count; i++)
        {
            var m = def.Members[i];
            switch (m.Name)
            {
                case "type":
                    type = IntField(m);
                    break;
                case "max_entries":
                    maxEntries = IntField(m);
                    break;
                case "map_flags":
                    flags = IntField(m);
                    break;
                case "numa_node":
                    numaNode = IntField(m);
                    break;
                case "map_extra":
                    mapExtra = IntField(m);
                    break;
                case "pinning":
                    pinning = IntField(m);
                    if (pinning > 1)
                    {
                        throw new ObjectFormatException($"{where}: invalid pinning value {pinning}");
                    }
                    break;
                case "key_size":
                    SetSize(ref keySize, ref hasKeySize, IntField(m), "key");
                    break;
                case "value_size":
                    SetSize(ref valueSize, ref hasValueSize, IntField(m), "value");
                    break;
                case "key":
                    keyTypeId = PointeeField(m);
                    SetSize(ref keySize, ref hasKeySize, context.CheckedSize(keyTypeId, $"map '{name}' key"), "key");
                    break;
                case "value":
                    valueTypeId = PointeeField(m);
                    SetSize(ref valueSize, ref hasValueSize, context.CheckedSize(valueTypeId, $"map '{name}' value"), "value");
                    break;
                case "values":
                    inner = ValuesField(m, i);
                    SetSize(ref valueSize, ref hasValueSize, 4, "value");
                    break;
                default:
                    // libbpf 1.0's strict mode refuses unknown members (-ENOTSUP).
                    throw new ObjectFormatException($"{where}: unknown field '{m.Name}'");
            }
        }
        return new ObjectMap(name, (MapType)type, keySize, valueSize, maxEntries, flags, keyTypeId, valueTypeId, inner)
        {
            Pinning = pinning,
            NumaNode = numaNode,
            MapExtra = mapExtra,
        };

        // __uint(x, N) is `int (*x)[N]`: N is the array's element count.
        uint IntField(BtfMember m)
        {
            if (btf[btf.SkipModifiers(m.Type)] is not BtfPtr ptr || btf[btf.SkipModifiers(ptr.Type)] is not BtfArray array)
            {
                throw new ObjectFormatException($"{where}: attribute '{m.Name}' is not a pointer to an array (__uint)");
            }
            return array.Count;
        }

        // __type(x, T) is `T *x`.
        uint PointeeField(BtfMember m)
        {
            if (btf[btf.SkipModifiers(m.Type)] is not BtfPtr ptr)
            {
                throw new ObjectFormatException($"{where}: '{m.Name}' is not a pointer (__type)");
            }
            return ptr.Type;
        }

        void SetSize(ref uint size, ref bool known, uint value, string what)
        {
            if (known && size != value)
            {
                throw new ObjectFormatException($"{where}: conflicting {what} size {size} != {value}");
            }
            size = value;
            known = true;
        }

        // __array(values, struct inner) is a zero-length array of pointers to the inner map's definition (or to a
        // function prototype for a prog array); only map-in-map has an inner definition.
        ObjectMap? ValuesField(BtfMember m, int index)
        {
            if (isInner)
            {
                throw new ObjectFormatException($"{where}: multi-level inner maps are not supported");
            }
            if (index != def.Members.Count - 1)
            {
                throw new ObjectFormatException($"{where}: 'values' must be the last member");
            }
            var mapType = (MapType)type;
            if (!mapType.IsMapInMap() && mapType != MapType.ProgArray)
            {
                throw new ObjectFormatException($"{where}: 'values' needs a map-in-map or prog-array type, not {type}");
            }
            if (btf[m.Type] is not BtfArray { Count: 0 } array || btf[btf.SkipModifiers(array.ElementType)] is not BtfPtr ptr)
            {
                throw new ObjectFormatException($"{where}: 'values' is not a zero-sized array of pointers");
            }
            var target = btf[btf.SkipModifiers(ptr.Type)];
            if (mapType == MapType.ProgArray)
            {
                return target is BtfFuncProto ? null : throw new ObjectFormatException($"{where}: prog-array values must point to function prototypes");
            }
            if (target is not BtfComposite { IsUnion: false } innerDef)
            {
                throw new ObjectFormatException($"{where}: the inner map definition is a {target.Kind}, not a struct");
            }
            return ParseMapDef(context, name + ".inner", innerDef, isInner: true);
        }
    }
}
