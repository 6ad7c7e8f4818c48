using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Spec;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// Loads an <see cref="ObjectSpec"/> the way libbpf's bpf_object__load does (tools/lib/bpf/libbpf.c): maps first
/// (BTF-defined maps, then global data and .kconfig as array maps), then each struct_ops program: CO-RE relocations
/// against bpfsim's kernel BTF, map/data/extern relocations, .text subprograms appended, and the load-time checks the
/// verifier would make first (<see cref="ProgramChecks"/>). A failure closes everything created so far.
/// </summary>
/// <remarks>
/// As in libbpf (bpf_object_adjust_struct_ops_autoload), a struct_ops program is loaded only when a struct_ops
/// variable that is created uses it: <c>autocreate</c> picks the variables (bpf_map__set_autocreate), and the
/// programs of another one can be loaded later with <see cref="LoadStructOpsPrograms"/>.
/// </remarks>
public static partial class ObjectLoader
{
    /// <summary>libbpf's POISON_CALL_KFUNC_BASE: a call to a weak kfunc the kernel lacks, which fails only if reached.</summary>
    public const int PoisonKfuncBase = 2002000000;

    /// <summary>
    /// The values bpfsim's kernel gives .kconfig externs by default (its configuration: HZ 1000, Linux 6.12); CONFIG_HZ
    /// is the loading system's <see cref="BpfSystemOptions.Hz"/> instead (<see cref="KconfigValue"/>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, ulong> Kconfig = new Dictionary<string, ulong>(StringComparer.Ordinal)
    {
        ["CONFIG_HZ"] = 1000,
        ["LINUX_KERNEL_VERSION"] = (6u << 16) | (12u << 8),
        ["CONFIG_BPF_SYSCALL"] = 1, // tristate y
        ["CONFIG_BPF_JIT"] = 1,
        ["CONFIG_SMP"] = 1,
        ["CONFIG_NR_CPUS"] = 8192,
        ["CONFIG_PREEMPT"] = 0,
        ["LINUX_HAS_BPF_COOKIE"] = 1,
        ["LINUX_HAS_SYSCALL_WRAPPER"] = 1,
    };

    private static readonly string[] s_gplCompatible =
        ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"];

    /// <summary>Loads <paramref name="spec"/> into <paramref name="bpf"/> for its current caller process.</summary>
    /// <param name="autocreate">
    /// The struct_ops variables whose programs to load; null = every variable (libbpf's default), empty = none (maps
    /// and global data only).
    /// </param>
    /// <returns>The errno and reason of the first step that failed, in the kernel's or libbpf's words.</returns>
    public static BpfResult Load(BpfSystem bpf, ObjectSpec spec, string source, out LoadedObject? loaded, IReadOnlyCollection<string>? autocreate = null)
    {
        loaded = null;
        var obj = new LoadedObject(bpf, spec, source);
        var r = LoadInto(bpf, spec, obj, autocreate);
        if (!r.IsOk)
        {
            foreach (var (_, fd, _) in obj.Maps)
            {
                bpf.Close(fd);
            }
            return r;
        }
        loaded = obj;
        return BpfResult.Ok;
    }

    private static BpfResult LoadInto(BpfSystem bpf, ObjectSpec spec, LoadedObject obj, IReadOnlyCollection<string>? autocreate)
    {
        if (spec.StructOps.Count > 0 && !s_gplCompatible.Contains(spec.License))
        {
            // check_struct_ops_btf_id (kernel/bpf/verifier.c).
            return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"license '{spec.License}': struct ops programs must have a GPL compatible license");
        }
        var kernelBtf = bpf.KernelBtf;
        if (kernelBtf is null && spec.StructOps.Count > 0)
        {
            return Fail(Errno.ENOTSUPP, BpfCommand.ProgLoad, "this kernel has no BTF to relocate against (no subsystem described its types)");
        }
        var r = CreateMaps(bpf, spec, obj);
        if (!r.IsOk)
        {
            return r;
        }
        foreach (var variable in spec.StructOps)
        {
            if (autocreate is null || autocreate.Contains(variable.Name))
            {
                r = LoadStructOpsPrograms(bpf, obj, variable);
                if (!r.IsOk)
                {
                    return r;
                }
            }
        }
        return BpfResult.Ok;
    }

    /// <summary>
    /// Loads the programs <paramref name="variable"/> uses that <paramref name="obj"/> has not loaded yet (relocated,
    /// linked and checked); what is loaded already stays, whatever the result.
    /// </summary>
    /// <returns>The errno and reason of the first program that failed, in the kernel's or libbpf's words.</returns>
    public static BpfResult LoadStructOpsPrograms(BpfSystem bpf, LoadedObject obj, ObjectStructOps variable)
    {
        var spec = obj.Spec;
        var kernelBtf = bpf.KernelBtf;
        if (kernelBtf is null)
        {
            return Fail(Errno.ENOTSUPP, BpfCommand.ProgLoad, "this kernel has no BTF to relocate against (no subsystem described its types)");
        }
        var relocator = new CoreRelocator(kernelBtf);
        var type = obj.TypeOf(variable);
        if (type is null)
        {
            return Fail(Errno.ENOTSUPP, BpfCommand.MapCreate, $"struct_ops {variable.Name}: struct {variable.TypeName} is not in this kernel");
        }
        if (type.Bytecode is not { } support)
        {
            return Fail(Errno.ENOTSUPP, BpfCommand.ProgLoad, $"struct_ops {variable.Name}: {type.Name} programs cannot run as bytecode in bpfsim");
        }
        foreach (var (memberName, programName) in variable.Programs)
        {
            var member = type.FindMember(memberName);
            if (member is null || !member.IsFunction)
            {
                return Fail(Errno.ENOTSUPP, BpfCommand.ProgLoad, $"struct_ops {variable.Name}: {type.Name} has no function member '{memberName}'");
            }
            if (obj.Programs.TryGetValue(programName, out var existing))
            {
                if (existing.Member != memberName)
                {
                    // libbpf loads a program once, for one member (its expected_attach_type).
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad,
                        $"program {programName} is used for both {existing.Member} and {memberName}: a struct_ops program implements one member");
                }
                continue;
            }
            var program = spec.Programs.FirstOrDefault(p => p.Name == programName);
            if (program is null)
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"struct_ops {variable.Name}.{memberName}: no program {programName} in the object");
            }
            if (program.SectionKind is not (ProgramSectionKind.StructOps or ProgramSectionKind.StructOpsSleepable))
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad,
                    $"program {programName} in section {program.SectionName} is not a struct_ops program, so it cannot implement {memberName}");
            }
            var r = LoadProgram(spec, obj, relocator, member, support, program, out var loaded);
            if (!r.IsOk)
            {
                return r;
            }
            obj.AddProgram(loaded!);
        }
        return BpfResult.Ok;
    }

    private static BpfResult Fail(Errno errno, BpfCommand command, string reason) => BpfResult.Fail(errno, reason).For(command);

    // ---- maps ----

    private static BpfResult CreateMaps(BpfSystem bpf, ObjectSpec spec, LoadedObject obj)
    {
        foreach (var m in spec.Maps)
        {
            int? innerFd = null;
            if (m.Type.IsMapInMap())
            {
                // bpf_object__create_map (libbpf.c): the inner definition becomes a template map whose fd the outer
                // map is created with (bpf_map_meta_alloc copies what it needs), closed once the outer map exists.
                if (m.InnerMap is not { } inner)
                {
                    return Fail(Errno.EINVAL, BpfCommand.MapCreate, $"map {m.Name}: a map-in-map needs an inner map definition (__array(values, ...))");
                }
                var ri = bpf.MapCreate(new MapSpec
                {
                    Type = inner.Type, KeySize = inner.KeySize, ValueSize = inner.ValueSize, MaxEntries = inner.MaxEntries,
                    Flags = (MapFlags)inner.Flags, Name = BpfSystem.ToObjectName(inner.Name), NumaNode = inner.NumaNode,
                    MapExtra = inner.MapExtra,
                }, out int templateFd);
                innerFd = templateFd;
                if (!ri.IsOk)
                {
                    return BpfResult.Fail(ri.Errno, $"map {inner.Name}: {ri.Cause}").For(BpfCommand.MapCreate);
                }
            }
            else if (m.InnerMap is not null)
            {
                return Fail(Errno.EINVAL, BpfCommand.MapCreate, $"map {m.Name}: only a map-in-map has an inner map definition");
            }
            var mapSpec = new MapSpec
            {
                Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize, MaxEntries = m.MaxEntries, Flags = (MapFlags)m.Flags,
                Name = BpfSystem.ToObjectName(m.Name), InnerMapFd = innerFd ?? 0, NumaNode = m.NumaNode, MapExtra = m.MapExtra,
            };
            // bpf_object__create_map: the map gets the object's BTF and its key/value type ids, except the types libbpf
            // knows take none (map-in-map, devmap, queue, stack: created without BTF), and if the kernel refuses them
            // it is created again without BTF ("retrying without BTF").
            bool withBtf = m.ValueTypeId != 0 && !(m.Type.IsMapInMap() || m.Type.IsQueueOrStack() || m.Type == MapType.DevMap);
            var r = !withBtf
                ? bpf.MapCreate(mapSpec, out int fd)
                : bpf.MapCreate(mapSpec with { Btf = spec.Btf, BtfKeyTypeId = m.KeyTypeId, BtfValueTypeId = m.ValueTypeId }, out fd);
            if (!r.IsOk && withBtf)
            {
                r = bpf.MapCreate(mapSpec, out fd);
            }
            if (innerFd is { } template)
            {
                bpf.Close(template).ThrowIfFailed();
            }
            if (!r.IsOk)
            {
                return BpfResult.Fail(r.Errno, $"map {m.Name}: {r.Cause}").For(BpfCommand.MapCreate);
            }
            bpf.GetMap(fd, out var map).ThrowIfFailed();
            obj.AddMap(m.Name, fd, map, MapPointer(obj, m.Name));
        }
        foreach (var d in spec.DataSections)
        {
            var r = CreateDataMap(bpf, obj, d.Name, d.Size, d.IsBss ? [] : d.Bytes.AsSpan(), d.IsReadOnly);
            if (!r.IsOk)
            {
                return r;
            }
        }
        var kconfig = spec.Externs.Where(e => e.Kind == ExternKind.Kconfig).ToList();
        if (kconfig.Count > 0)
        {
            var r = KconfigBytes(bpf, spec, kconfig, obj.KconfigOffsets, out var bytes);
            if (!r.IsOk)
            {
                return r;
            }
            r = CreateDataMap(bpf, obj, ".kconfig", (uint)bytes.Length, bytes, readOnly: true);
            if (!r.IsOk)
            {
                return r;
            }
        }
        return BpfResult.Ok;
    }

    private static ulong MapPointer(LoadedObject obj, string name)
    {
        // What the program holds for a map: a read-only "struct bpf_map" of zeros, so the pointer is a real, non-NULL
        // kernel-looking address that helpers turn back into the map.
        var bytes = new byte[64];
        var handle = obj.Map(bytes, 0, bytes.Length, RegionKind.KernelObject, MemoryAccess.Read, $"map:{name}");
        return AddressSpace.AddressOf(handle);
    }

    /// <summary>Global data as a one-element array map (bpf_object__init_internal_map), mapped in place for the programs.</summary>
    private static BpfResult CreateDataMap(BpfSystem bpf, LoadedObject obj, string section, uint size, ReadOnlySpan<byte> initial, bool readOnly)
    {
        string prefix = obj.Spec.Name.Length > 8 ? obj.Spec.Name[..8] : obj.Spec.Name;
        string name = BpfSystem.ToObjectName(prefix + (section.Length + prefix.Length > 15 ? section[..Math.Min(section.Length, 15 - prefix.Length)] : section));
        var r = bpf.MapCreate(new MapSpec
        {
            Type = MapType.Array, KeySize = 4, ValueSize = Math.Max(size, 1), MaxEntries = 1,
            Flags = readOnly ? MapFlags.RdOnlyProg : MapFlags.None, Name = name,
        }, out int fd);
        if (!r.IsOk)
        {
            return BpfResult.Fail(r.Errno, $"{section}: {r.Cause}").For(BpfCommand.MapCreate);
        }
        bpf.GetMap(fd, out var map).ThrowIfFailed();
        if (!initial.IsEmpty)
        {
            var value = new byte[map.ValueSize];
            initial.CopyTo(value);
            bpf.MapUpdateElem(fd, new byte[4], value).ThrowIfFailed();
        }
        byte[] array;
        int offset;
        using (bpf.EnterProgram(0))
        {
            map.LookupLocation(new byte[4], out array, out offset);
        }
        var handle = obj.Map(array, offset, (int)Math.Max(size, 1), RegionKind.MapValue, readOnly ? MemoryAccess.Read : MemoryAccess.ReadWrite, section);
        ulong address = AddressSpace.AddressOf(handle);
        obj.AddMap(section, fd, map, address);
        if (readOnly)
        {
            var bytes = new byte[map.ValueSize];
            initial.CopyTo(bytes);
            obj.AddReadOnlyData(address, bytes);
        }
        return BpfResult.Ok;
    }

    /// <summary>The .kconfig values at the externs' offsets (bpf_object__resolve_kconfig): unknown strong ones fail.</summary>
    /// <summary>What .kconfig extern <paramref name="name"/> reads on <paramref name="bpf"/>: CONFIG_HZ is the system's HZ, the rest <see cref="Kconfig"/>.</summary>
    public static bool KconfigValue(BpfSystem bpf, string name, out ulong value)
    {
        if (name == "CONFIG_HZ")
        {
            value = bpf.Options.Hz;
            return true;
        }
        return Kconfig.TryGetValue(name, out value);
    }

    private static BpfResult KconfigBytes(BpfSystem bpf, ObjectSpec spec, IReadOnlyList<ObjectExtern> externs, Dictionary<string, int> offsets, out byte[] bytes)
    {
        bytes = [];
        var layout = new List<(ObjectExtern Extern, int Offset, int Size)>();
        int end = 0;
        foreach (var e in externs)
        {
            // bpf_object__collect_externs: an int, bool, enum or char array; its value aligned to a power of two up to 8.
            ulong btfSize;
            try
            {
                btfSize = spec.Btf.SizeOf(e.TypeId);
            }
            catch (BtfException ex)
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"extern (kcfg) '{e.Name}': type is unsupported ({ex.Message})");
            }
            if (btfSize == 0)
            {
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"extern (kcfg) '{e.Name}': type is unsupported (size 0)");
            }
            int size = (int)Math.Min(btfSize, 8);
            int align = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size);
            align = align > size ? align / 2 : align;
            int offset = (end + align - 1) / align * align;
            layout.Add((e, offset, size));
            end = offset + size;
        }
        bytes = new byte[Math.Max(end, 1)];
        Span<byte> v = stackalloc byte[8];
        foreach (var (e, offset, size) in layout)
        {
            if (!KconfigValue(bpf, e.Name, out ulong value))
            {
                if (!e.IsWeak)
                {
                    return Fail(Errno.ESRCH, BpfCommand.ProgLoad, $"extern (kcfg) '{e.Name}': not found in bpfsim's kernel configuration");
                }
                value = 0; // a weak extern the kernel does not set reads as 0
            }
            BinaryPrimitives.WriteUInt64LittleEndian(v, value);
            v[..size].CopyTo(bytes.AsSpan(offset));
        }
        foreach (var (e, offset, _) in layout)
        {
            offsets[e.Name] = offset;
        }
        return BpfResult.Ok;
    }

    // ---- programs ----

    private static BpfResult LoadProgram(ObjectSpec spec, LoadedObject obj, CoreRelocator? relocator, StructOpsMember? member,
        BytecodeSupport support, ObjectProgram program, out BytecodeProgram? loaded)
    {
        loaded = null;
        var kfuncs = new FunctionTable();
        var helpers = new FunctionTable();
        var kfuncIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var insns = new List<Instruction>(program.Instructions);
        var appended = new Dictionary<string, int>(StringComparer.Ordinal);
        var pending = new Queue<(ObjectProgram Code, int Base)>();
        pending.Enqueue((program, 0));
        while (pending.TryDequeue(out var item))
        {
            var (code, @base) = item;
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(insns);
            foreach (var relo in code.CoreRelos)
            {
                if (relocator is null)
                {
                    return Fail(Errno.ENOTSUPP, BpfCommand.ProgLoad, $"prog '{program.Name}': CO-RE relocations need a kernel BTF, and this kernel has none");
                }
                try
                {
                    var result = relocator.Resolve(new CoreRelocation(spec.Btf, relo.TypeId, relo.AccessString, relo.Kind));
                    CoreRelocator.Apply(span, @base + relo.InsnOffset, result);
                }
                catch (Exception e) when (e is CoreRelocationException or BtfException)
                {
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': relo #{code.CoreRelos.ToList().IndexOf(relo)} " +
                                                                   $"(insn {@base + relo.InsnOffset}, {relo.Kind} of [{relo.TypeId}] {relo.AccessString}): {e.Message}");
                }
            }
            foreach (var relo in code.Relocations)
            {
                int i = @base + relo.InstructionIndex;
                if ((uint)i >= (uint)insns.Count)
                {
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': relocation at insn {i} is outside the program");
                }
                var r = Relocate(spec, obj, member, support, program, relo, i, insns, kfuncs, kfuncIds, appended, pending);
                if (!r.IsOk)
                {
                    return r;
                }
            }
            if (code.SectionKind == ProgramSectionKind.Text)
            {
                // A call between two static functions of .text has no relocation: clang leaves its imm relative to
                // .text's own layout (bpf_object__reloc_code follows such calls too).
                var reloc = code.Relocations.Select(x => x.InstructionIndex).ToHashSet();
                for (int k = 0; k < code.Instructions.Length; k++)
                {
                    var call = code.Instructions[k];
                    if (call.Opcode != (OpCode.Jmp | OpCode.Call) || call.Src != Pseudo.Call || reloc.Contains(k))
                    {
                        continue;
                    }
                    int target = code.SectionOffset + k + call.Imm + 1;
                    var r = LinkSubprogram(spec, program, target, @base + k, insns, appended, pending);
                    if (!r.IsOk)
                    {
                        return r;
                    }
                }
            }
        }
        var linked = insns.ToArray();
        bool devmap = program.ExpectedAttachType == ProgramAttachType.XdpDevmap;
        var check = ProgramChecks.Check(program.Name, linked, member, support, helpers, s_gplCompatible.Contains(spec.License), devmap,
            obj.TryReadOnlyData);
        if (!check.IsOk)
        {
            return check;
        }
        loaded = new BytecodeProgram(obj, program.Name, member?.Name ?? "xdp", linked, helpers, kfuncs);
        return BpfResult.Ok;
    }

    private static BpfResult Relocate(ObjectSpec spec, LoadedObject obj, StructOpsMember? member, BytecodeSupport support,
        ObjectProgram program, ObjectRelocation relo, int i, List<Instruction> insns, FunctionTable kfuncs, Dictionary<string, int> kfuncIds,
        Dictionary<string, int> appended, Queue<(ObjectProgram, int)> pending)
    {
        var insn = insns[i];
        bool ldimm64 = insn.Opcode == OpCode.LdImm64;
        if (ldimm64 && (i + 1 >= insns.Count || insns[i + 1].Opcode != 0))
        {
            return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i} is a 64-bit load without its second slot");
        }
        switch (relo.Kind)
        {
            case RelocationKind.Map:
            {
                var map = obj.Maps.FirstOrDefault(m => m.Name == relo.SymbolName);
                if (!ldimm64 || map.Map is null)
                {
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i}: bad map relocation to {relo.SymbolName}");
                }
                SetImm64(insns, i, obj.AddressOf(relo.SymbolName), Pseudo.MapFd);
                return BpfResult.Ok;
            }
            case RelocationKind.Data:
            {
                string section = relo.SymbolSection ?? relo.Target;
                if (!ldimm64 || obj.Maps.All(m => m.Name != section))
                {
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i}: bad data relocation to {section}");
                }
                ulong offset = relo.SymbolOffset + (uint)insn.Imm;
                SetImm64(insns, i, obj.AddressOf(section) + offset, Pseudo.MapValue);
                return BpfResult.Ok;
            }
            case RelocationKind.Kconfig:
            {
                if (!ldimm64 || !obj.KconfigOffsets.TryGetValue(relo.SymbolName, out int offset))
                {
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i}: bad kconfig relocation to {relo.SymbolName}");
                }
                SetImm64(insns, i, obj.AddressOf(".kconfig") + (ulong)offset, Pseudo.MapValue);
                return BpfResult.Ok;
            }
            case RelocationKind.Ksym:
            {
                var ext = spec.Externs.FirstOrDefault(e => e.Name == relo.SymbolName && e.Kind == ExternKind.Ksym);
                bool weak = ext?.IsWeak ?? false;
                var fn = support.Kfunc(relo.SymbolName, member!, out bool exists, out string refusal);
                if (!exists && !weak)
                {
                    // libbpf: bpf_object__resolve_ksym_func_btf_id.
                    return Fail(Errno.ESRCH, BpfCommand.ProgLoad, $"extern (func ksym) '{relo.SymbolName}': not found in kernel or module BTFs");
                }
                if (exists && fn is null)
                {
                    return Fail(Errno.EACCES, BpfCommand.ProgLoad, $"prog '{program.Name}': {refusal}");
                }
                if (fn is not null && !program.IsSleepable && support.KfuncSleepable(relo.SymbolName))
                {
                    // check_kfunc_call (kernel/bpf/verifier.c): KF_SLEEPABLE needs a sleepable program (SEC("struct_ops.s/…")).
                    return Fail(Errno.EACCES, BpfCommand.ProgLoad, $"prog '{program.Name}': program must be sleepable to call sleepable kfunc {relo.SymbolName}");
                }
                if (ldimm64)
                {
                    // bpf_ksym_exists() and &kfunc: a non-NULL kernel address when present, 0 when a weak one is missing.
                    SetImm64(insns, i, fn is null ? 0 : AddressSpace.Base - 0x1000 - (ulong)KfuncId(relo.SymbolName, fn, kfuncs, kfuncIds) * 16,
                        fn is null ? 0 : Pseudo.BtfId);
                    return BpfResult.Ok;
                }
                if (insn.Opcode != (OpCode.Jmp | OpCode.Call))
                {
                    return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i}: ksym relocation on neither a call nor a 64-bit load");
                }
                insns[i] = fn is null
                    ? new Instruction(insn.Opcode, 0, 0, 0, PoisonKfuncBase + kfuncIds.Count) // fails only if reached
                    : new Instruction(insn.Opcode, 0, Pseudo.KfuncCall, 0, KfuncId(relo.SymbolName, fn, kfuncs, kfuncIds));
                return BpfResult.Ok;
            }
            case RelocationKind.SubprogramCall:
                return insn.Opcode != (OpCode.Jmp | OpCode.Call)
                    ? Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i}: a call relocation on an instruction that is not a call")
                    : LinkSubprogram(spec, program, relo.TargetInstruction, i, insns, appended, pending);
            default:
                return Fail(Errno.EINVAL, BpfCommand.ProgLoad,
                    $"prog '{program.Name}': insn {i}: {relo.Kind} relocations (callbacks for bpf_loop, timers, ...) are not supported by bpfsim");
        }
    }

    /// <summary>
    /// Points the call at insn <paramref name="i"/> to .text instruction <paramref name="target"/>, appending the
    /// function that holds it (bpf_object__append_subprog_code: each subprogram once, after the main program).
    /// </summary>
    private static BpfResult LinkSubprogram(ObjectSpec spec, ObjectProgram program, int target, int i, List<Instruction> insns,
        Dictionary<string, int> appended, Queue<(ObjectProgram, int)> pending)
    {
        var callee = spec.Subprograms.FirstOrDefault(s => target >= s.SectionOffset && target < s.SectionOffset + s.Instructions.Length);
        if (callee is null)
        {
            return Fail(Errno.EINVAL, BpfCommand.ProgLoad, $"prog '{program.Name}': insn {i}: call to no function of .text (insn {target})");
        }
        if (!appended.TryGetValue(callee.Name, out int start))
        {
            start = insns.Count;
            appended[callee.Name] = start;
            insns.AddRange(callee.Instructions);
            pending.Enqueue((callee, start));
        }
        int dest = start + (target - callee.SectionOffset);
        var insn = insns[i];
        insns[i] = new Instruction(insn.Opcode, insn.Dst, Pseudo.Call, insn.Offset, dest - (i + 1));
        return BpfResult.Ok;
    }

    private static int KfuncId(string name, BpfFunction fn, FunctionTable kfuncs, Dictionary<string, int> ids)
    {
        if (!ids.TryGetValue(name, out int id))
        {
            id = ids.Count + 1;
            ids[name] = id;
            kfuncs.Add(id, name, fn);
        }
        return id;
    }

    private static void SetImm64(List<Instruction> insns, int i, ulong value, int src)
    {
        insns[i] = new Instruction(insns[i].Opcode, insns[i].Dst, src, insns[i].Offset, (int)(uint)value);
        insns[i + 1] = insns[i + 1] with { Imm = (int)(uint)(value >> 32) };
    }
}
