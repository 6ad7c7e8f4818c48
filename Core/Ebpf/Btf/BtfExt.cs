namespace BpfSim.Core.Ebpf.Btf;

/// <summary>
/// The contents of a .BTF.ext section: per ELF section name, its function infos, line infos and CO-RE relocations,
/// with instruction indices counted from the start of that section.
/// </summary>
public sealed class BtfExt
{
    /// <summary>An empty .BTF.ext, for an object that has none.</summary>
    public static readonly BtfExt Empty = new(new Dictionary<string, IReadOnlyList<BtfExtFuncInfo>>(),
        new Dictionary<string, IReadOnlyList<BtfExtLineInfo>>(), new Dictionary<string, IReadOnlyList<BtfCoreRelo>>());

    public BtfExt(IReadOnlyDictionary<string, IReadOnlyList<BtfExtFuncInfo>> funcInfo,
        IReadOnlyDictionary<string, IReadOnlyList<BtfExtLineInfo>> lineInfo,
        IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelo>> coreRelos)
    {
        FuncInfo = funcInfo;
        LineInfo = lineInfo;
        CoreRelos = coreRelos;
    }

    /// <summary>Function infos by section name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfExtFuncInfo>> FuncInfo { get; }

    /// <summary>Line infos by section name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfExtLineInfo>> LineInfo { get; }

    /// <summary>CO-RE relocations by section name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelo>> CoreRelos { get; }
}
