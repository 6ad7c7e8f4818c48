using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;
using LibObjectFile.Elf;

namespace BpfSim.Core.Ebpf.Elf;

public static partial class ObjectReader
{
    /// <summary>
    /// Undefined global or weak symbols, each matched to its extern BTF VAR or FUNC and the DATASEC holding it
    /// (.kconfig or .ksyms), as bpf_object__collect_externs, find_extern_btf_id and find_extern_sec_btf_id do.
    /// </summary>
    private static List<ObjectExtern> ReadExterns(Context context)
    {
        var result = new List<ObjectExtern>();
        var btf = context.Btf;
        Dictionary<uint, string>? sectionOf = null;
        foreach (var symbol in context.Image.Symbols.Where(s => s.IsExtern))
        {
            string where = $"{context.Name}: extern '{symbol.Name}'";
            if (btf.Count <= 1)
            {
                throw new ObjectFormatException($"{where}: an object with externs needs BTF (compile with -g)");
            }
            if (sectionOf == null)
            {
                sectionOf = [];
                foreach (var (_, type) in btf.All())
                {
                    if (type is BtfDatasec datasec)
                    {
                        foreach (var info in datasec.Vars)
                        {
                            sectionOf.TryAdd(info.Type, datasec.Name);
                        }
                    }
                }
            }
            uint id = 0;
            foreach (uint candidate in btf.FindByName(symbol.Name))
            {
                var t = btf[candidate];
                if (t is BtfVar v)
                {
                    id = v.Linkage == BtfLinkage.Extern ? candidate : throw new ObjectFormatException($"{where}: its BTF VAR is not extern");
                    break;
                }
                if (t is BtfFunc f)
                {
                    id = f.Linkage == BtfLinkage.Extern ? candidate : throw new ObjectFormatException($"{where}: its BTF FUNC is not extern");
                    break;
                }
            }
            if (id == 0)
            {
                throw new ObjectFormatException($"{where}: no BTF VAR or FUNC describes it");
            }
            if (!sectionOf.TryGetValue(id, out var section))
            {
                throw new ObjectFormatException($"{where}: no DATASEC holds it");
            }
            var kind = section switch
            {
                KconfigSection => ExternKind.Kconfig,
                KsymsSection => ExternKind.Ksym,
                _ => throw new ObjectFormatException($"{where}: unrecognized extern section '{section}'"),
            };
            bool isFunction = btf[id] is BtfFunc;
            if (kind == ExternKind.Kconfig && isFunction)
            {
                throw new ObjectFormatException($"{where}: a function cannot be a kconfig extern");
            }
            uint typeId = isFunction ? id : ((BtfVar)btf[id]).Type;
            result.Add(new ObjectExtern(symbol.Name, kind, symbol.Bind == ElfSymbolBind.Weak, typeId, isFunction));
        }
        return result;
    }
}
