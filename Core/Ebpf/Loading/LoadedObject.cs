using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// An object after <see cref="ObjectLoader.Load"/>: its maps (BTF-defined maps, global data as array maps, the kconfig
/// map) created in the simulated kernel and held by fds of the loading process, its struct_ops programs relocated and
/// linked, all sharing one address space; its struct_ops variables ready to become maps (<see cref="StructOpsObjectLoader"/>).
/// </summary>
public sealed class LoadedObject
{
    private readonly Dictionary<ulong, BpfMap> _mapsByAddress = [];
    private readonly Dictionary<string, ulong> _addresses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BytecodeProgram> _programs = new(StringComparer.Ordinal);
    private readonly List<(string Name, int Fd, BpfMap Map)> _maps = [];
    // .rodata and .kconfig as loaded: libbpf freezes them before the programs load, so the verifier reads them.
    private readonly List<(ulong Address, byte[] Bytes)> _readOnly = [];

    internal LoadedObject(BpfSystem system, ObjectSpec spec, string source)
    {
        System = system;
        Spec = spec;
        Source = source;
        Memory = new AddressSpace();
        _spaces.Add(Memory);
        _contextBytes.Add(new byte[BytecodeProgram.MaxArgs * 8]);
        ContextRegion = Memory.Map(_contextBytes[0], RegionKind.Context, MemoryAccess.Read, "ctx");
        CallState = new ProgramCallState(this);
        Random = Simulation.SimRandom.For(system.Options.Seed, "bpf_get_prandom_u32:" + spec.Name);
    }

    /// <summary>What helpers see of the current call (the runs' <c>CallerState</c>).</summary>
    public ProgramCallState CallState { get; }

    /// <summary>bpf_get_prandom_u32's stream: from the run's seed and the object's name, so runs repeat exactly.</summary>
    internal Simulation.SimRandom Random { get; }

    public BpfSystem System { get; }

    public ObjectSpec Spec { get; }

    /// <summary>The file it was read from (or a name given by the caller).</summary>
    public string Source { get; }

    /// <summary>The address space the object's programs run in (level 0; nested runs get copies, see <see cref="Acquire"/>).</summary>
    public AddressSpace Memory { get; }

    // A program of the object may run while another is running (init calls bpf_setsockopt, which releases and inits
    // algorithms): each nesting level has an address space of its own with the same regions at the same addresses,
    // over the same memory, except the context array and the stack, which are the level's.
    private readonly List<AddressSpace> _spaces = [];
    private readonly List<byte[]> _contextBytes = [];
    private readonly List<Func<AddressSpace, RegionHandle>> _layout = [];

    /// <summary>Maps memory for every level: a region at the same address in each.</summary>
    internal RegionHandle Map(byte[] backing, int start, int length, RegionKind kind, MemoryAccess access, string name, WriteFilter? filter = null)
    {
        Func<AddressSpace, RegionHandle> map = space => space.Map(backing, start, length, kind, access, name, filter);
        _layout.Add(map);
        var handle = map(_spaces[0]);
        for (int i = 1; i < _spaces.Count; i++)
        {
            map(_spaces[i]);
        }
        return handle;
    }

    /// <summary>Maps a region each call binds (e.g. the socket) in every level.</summary>
    public RegionHandle MapCallScoped(RegionKind kind, MemoryAccess access, string name, WriteFilter? filter = null)
    {
        Func<AddressSpace, RegionHandle> map = space => space.MapCallScoped(kind, access, name, filter);
        _layout.Add(map);
        var handle = map(_spaces[0]);
        for (int i = 1; i < _spaces.Count; i++)
        {
            map(_spaces[i]);
        }
        return handle;
    }

    /// <summary>An address space for a new run: the first level not running, a new one when every level is.</summary>
    internal AddressSpace Acquire()
    {
        // Level 0 unless a program of the object is running (then a nested run: bpf_setsockopt from init).
        return Memory.IsRunning ? AcquireNested() : Memory;
    }

    private AddressSpace AcquireNested()
    {
        foreach (var space in _spaces)
        {
            if (!space.IsRunning)
            {
                return space;
            }
        }
        var next = new AddressSpace();
        var bytes = new byte[BytecodeProgram.MaxArgs * 8];
        next.Map(bytes, RegionKind.Context, MemoryAccess.Read, "ctx");
        foreach (var map in _layout)
        {
            map(next);
        }
        _spaces.Add(next);
        _contextBytes.Add(bytes);
        return next;
    }

    /// <summary>The context array (the trampoline's arguments) of <paramref name="space"/>'s level.</summary>
    internal byte[] ContextBytesOf(AddressSpace space) =>
        ReferenceEquals(space, Memory) ? _contextBytes[0] : _contextBytes[_spaces.IndexOf(space)];

    /// <summary>The most instructions one call may execute before it faults (the verifier's complexity limit's analogue).</summary>
    public long InstructionBudget { get; init; } = Vm.RunContext.DefaultInstructionBudget;

    internal RegionHandle ContextRegion { get; }

    private RegionHandle _xdpMd;
    private RegionHandle _packet;

    /// <summary>
    /// The regions of a packet program's run, made when the object's first XDP program loads: the xdp_md context (no
    /// bytes of its own: every load from it is answered by the run, <see cref="Vm.RunContext.BindPacket"/>) and the
    /// packet each run binds.
    /// </summary>
    internal (RegionHandle XdpMd, RegionHandle Packet) PacketRegions()
    {
        if (_xdpMd.Value == 0)
        {
            _xdpMd = Map([], 0, 0, RegionKind.Context, MemoryAccess.Read, "xdp_md");
            _packet = MapCallScoped(RegionKind.Packet, MemoryAccess.ReadWrite, "packet");
        }
        return (_xdpMd, _packet);
    }

    /// <summary>The loaded programs by name (those a struct_ops variable uses; libbpf does not load the others).</summary>
    public IReadOnlyDictionary<string, BytecodeProgram> Programs => _programs;

    /// <summary>The maps created for the object, in creation order, with the loader's fds.</summary>
    public IReadOnlyList<(string Name, int Fd, BpfMap Map)> Maps => _maps;

    /// <summary>The map a program's map pointer (an ldimm64 of a map) stands for, or null.</summary>
    public BpfMap? MapAt(ulong address) => _mapsByAddress.GetValueOrDefault(address);

    // Inner maps a program reached through a map-in-map: each has a "struct bpf_map" of zeros of its own, the same
    // kind of region as an ldimm64'd map's, mapped for the rest of the run that looked it up. Weak on both sides, so an
    // inner map the object no longer reaches is not kept alive by having been looked up once.
    private readonly ConditionalWeakTable<BpfMap, byte[]> _innerBytes = new();
    private readonly ConditionalWeakTable<byte[], BpfMap> _innerMaps = new();

    /// <summary>
    /// What bpf_map_lookup_elem on an outer map returns for <paramref name="inner"/> in the run using
    /// <paramref name="space"/> (array_of_map_lookup_elem, htab_of_map_lookup_elem: the inner struct bpf_map itself).
    /// The pointer stays valid until the run ends, as the kernel's does until the program leaves its RCU read-side section.
    /// </summary>
    internal ulong InnerMapPointer(AddressSpace space, BpfMap inner)
    {
        var bytes = _innerBytes.GetValue(inner, m =>
        {
            var b = new byte[64];
            _innerMaps.Add(b, m);
            return b;
        });
        return AddressSpace.AddressOf(space.MapTransient(bytes, 0, bytes.Length, RegionKind.KernelObject, MemoryAccess.Read, $"map:{inner.Name}"));
    }

    /// <summary>The map a pointer in <paramref name="space"/> stands for: an ldimm64'd map or an inner map looked up in this run; else null.</summary>
    internal BpfMap? MapAt(AddressSpace space, ulong address)
    {
        if (_mapsByAddress.TryGetValue(address, out var map))
        {
            return map;
        }
        if (space.TryTranslate(address, out var region, out int offset) && offset == 0
            && space.Regions[region.Value].Array is { } array && _innerMaps.TryGetValue(array, out var inner))
        {
            return inner;
        }
        return null;
    }

    internal void AddMap(string name, int fd, BpfMap map, ulong pointer)
    {
        _maps.Add((name, fd, map));
        _mapsByAddress[pointer] = map;
        _addresses[name] = pointer;
    }

    internal void AddReadOnlyData(ulong address, byte[] bytes) => _readOnly.Add((address, bytes));

    /// <summary>
    /// bpf_map_direct_read: <paramref name="size"/> bytes at <paramref name="address"/> in a read-only data section
    /// (frozen with BPF_F_RDONLY_PROG), little-endian; false when the address is not in one.
    /// </summary>
    internal bool TryReadOnlyData(ulong address, int size, out ulong value)
    {
        value = 0;
        foreach (var (start, bytes) in _readOnly)
        {
            if (address >= start && address + (ulong)size <= start + (ulong)bytes.Length)
            {
                int at = (int)(address - start);
                for (int i = size - 1; i >= 0; i--)
                {
                    value = value << 8 | bytes[at + i];
                }
                return true;
            }
        }
        return false;
    }

    /// <summary>What an ldimm64 of map or section <paramref name="name"/> loads: the map pointer, or the data's address.</summary>
    internal ulong AddressOf(string name) => _addresses[name];

    /// <summary>
    /// What a 64-bit immediate of a program stands for, as bpftool names it: the map a map pointer is, or the map
    /// whose value a data address points into, with the offset; null for any other value.
    /// </summary>
    public (BpfMap Map, ulong? Offset)? Describe(ulong value)
    {
        if (_mapsByAddress.TryGetValue(value, out var map) && !_maps.Any(m => m.Map == map && m.Name.StartsWith('.')))
        {
            return (map, null);
        }
        foreach (var (name, _, m) in _maps)
        {
            ulong start = _addresses[name];
            if (name.StartsWith('.') && value >= start && value < start + (ulong)m.ValueSize)
            {
                return (m, value - start);
            }
        }
        return null;
    }

    /// <summary>Where each .kconfig extern sits in the .kconfig map's value.</summary>
    internal Dictionary<string, int> KconfigOffsets { get; } = new(StringComparer.Ordinal);

    internal void AddProgram(BytecodeProgram program) => _programs[program.Name] = program;

    /// <summary>The struct_ops variables of the object, each of which can become a struct_ops map.</summary>
    public IReadOnlyList<ObjectStructOps> StructOps => Spec.StructOps;

    /// <summary>The struct_ops type a variable fills in, if this kernel has it.</summary>
    public StructOpsType? TypeOf(ObjectStructOps variable) => System.FindStructOpsType(variable.TypeName);
}
