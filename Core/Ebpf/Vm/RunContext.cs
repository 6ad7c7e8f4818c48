using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Vm;

/// <summary>
/// Everything one program call runs with, passed explicitly (the kernel's bpf_run_ctx, not ambient state): the
/// address space, the helper and kfunc tables, the instruction budget, the spans of call-scoped regions, and the
/// call's counters. A ref struct made on the caller's stack per call, so binding a span (a socket struct) costs no
/// allocation and cannot outlive the call.
/// </summary>
public ref partial struct RunContext
{
    /// <summary>The default instruction budget: the verifier's BPF_COMPLEXITY_LIMIT_INSNS (include/linux/bpf.h).</summary>
    public const long DefaultInstructionBudget = 1_000_000;

    private readonly AddressSpace _memory;
    private Span<byte> _slot0;
    private Span<byte> _slot1;
    private Span<byte> _slot2;
    private Span<byte> _slot3;

    // A packet program's packet (RunContext.Packet.cs); a partial struct's fields live in one declaration.
    private Span<byte> _frame;
    private int _packetRegion, _xdpMdRegion, _packetData, _packetDataEnd, _packetDataMeta;
    private uint _ingressIfindex, _rxQueueIndex, _egressIfindex, _redirectIfindex;

    /// <param name="memory">The address space the program runs in.</param>
    /// <param name="helpers">Helpers by id; null has none (a helper call faults).</param>
    /// <param name="kfuncs">Kfuncs by the loader's index; null has none.</param>
    /// <exception cref="ArgumentNullException">memory is null.</exception>
    public RunContext(AddressSpace memory, FunctionTable? helpers = null, FunctionTable? kfuncs = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        Helpers = helpers;
        Kfuncs = kfuncs;
        InstructionBudget = DefaultInstructionBudget;
    }

    /// <summary>The address space the program runs in.</summary>
    public readonly AddressSpace Memory => _memory;

    /// <summary>Helpers by id.</summary>
    public FunctionTable? Helpers { get; }

    /// <summary>Kfuncs by the loader's index.</summary>
    public FunctionTable? Kfuncs { get; }

    /// <summary>The most instructions the run may execute before it faults (default 1,000,000).</summary>
    public long InstructionBudget { get; init; }

    /// <summary>The caller's state for helpers (e.g. the socket's owner); never read by the interpreter.</summary>
    public object? CallerState { get; set; }

    /// <summary>The instructions the run executed (at a helper call: so far).</summary>
    public long InstructionsExecuted { get; internal set; }

    /// <summary>The deepest frame count the run reached (1 without bpf-to-bpf calls).</summary>
    public int MaxFrames { get; internal set; }

    /// <summary>The number of instructions of the running program (the interpreter's jump bound).</summary>
    internal int ProgramLength;

    /// <summary>During a helper or kfunc call, the index of the call instruction; faults the helper raises carry it.</summary>
    public int ProgramCounter { get; internal set; }

    /// <summary>
    /// Gives a call-scoped region its bytes for this call, e.g. <c>MemoryMarshal.AsBytes(new Span&lt;TcpSock&gt;(ref sk))</c>.
    /// Its length is the region's size: accesses past it fault.
    /// </summary>
    /// <exception cref="ArgumentException">The handle is not a call-scoped region of this context's space.</exception>
    public void Bind(RegionHandle region, Span<byte> bytes)
    {
        var regions = _memory.Regions;
        if (region.Value <= 0 || region.Value >= _memory.Count || regions[region.Value].Array is not null
            || regions[region.Value].Access == MemoryAccess.None)
        {
            throw new ArgumentException($"region {region.Value} is not a call-scoped region", nameof(region));
        }
        switch (regions[region.Value].Slot)
        {
            case 0:
                _slot0 = bytes;
                break;
            case 1:
                _slot1 = bytes;
                break;
            case 2:
                _slot2 = bytes;
                break;
            default:
                _slot3 = bytes;
                break;
        }
    }

    /// <summary>
    /// The bytes at an address, checked as the program's own access would be: for helpers and kfuncs reading or
    /// writing through a pointer argument.
    /// </summary>
    /// <exception cref="BpfFault">The range is not inside one mapped region, or the region refuses the access.</exception>
    public Span<byte> GetBytes(ulong address, int size, MemoryAccess access)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ref byte first = ref TryResolve(address, size, access);
        if (Unsafe.IsNullRef(ref first))
        {
            throw MemoryFault(ProgramCounter, -1, address, size, access);
        }
        return MemoryMarshal.CreateSpan(ref first, size);
    }

    /// <summary>Loads 1, 2, 4 or 8 little-endian bytes, zero-extended (a helper's read through a pointer).</summary>
    /// <exception cref="BpfFault">As <see cref="GetBytes"/>.</exception>
    public ulong Load(ulong address, int size)
    {
        ref byte p = ref TryResolve(address, size, MemoryAccess.Read);
        if (Unsafe.IsNullRef(ref p))
        {
            throw MemoryFault(ProgramCounter, -1, address, size, MemoryAccess.Read);
        }
        return Interpreter.LoadSized(ref p, size);
    }

    /// <summary>Stores the low 1, 2, 4 or 8 bytes of a value, little-endian (a helper's write through a pointer).</summary>
    /// <exception cref="BpfFault">As <see cref="GetBytes"/>.</exception>
    public void Store(ulong address, int size, ulong value)
    {
        ref byte p = ref TryResolve(address, size, MemoryAccess.Write);
        if (Unsafe.IsNullRef(ref p))
        {
            throw MemoryFault(ProgramCounter, -1, address, size, MemoryAccess.Write);
        }
        Interpreter.StoreSized(ref p, size, value);
    }

    /// <summary>
    /// The first byte of an access if the region allows it whole, else a null ref (the caller raises the fault with
    /// <see cref="MemoryFault"/>, knowing the instruction). Array-backed and call-scoped regions without a write
    /// filter are decided here; a filtered store goes through the slow path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly ref byte TryResolve(ulong address, int size, MemoryAccess access)
    {
        ulong relative = address - AddressSpace.Base;
        uint handle = (uint)(relative >> 32);
        uint offset = (uint)relative;
        var memory = _memory;
        if (handle < (uint)memory.Count)
        {
            // Count never exceeds the table's length, so the handle check above covers the array's own.
            ref Region region = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(memory.Regions), (nint)handle);
            if ((region.FastAccess & access) == access)
            {
                byte[]? array = region.Array;
                if (array is not null)
                {
                    if ((ulong)offset + (uint)size <= (uint)region.Length)
                    {
                        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (nint)(uint)region.Start + (nint)offset);
                    }
                }
                else
                {
                    Span<byte> bytes = SlotOf(region.Slot);
                    if ((ulong)offset + (uint)size <= (uint)bytes.Length)
                    {
                        return ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), (nint)offset);
                    }
                }
            }
            else if (region.Filter is not null)
            {
                return ref ResolveFiltered(ref region, offset, size, access);
            }
        }
        return ref Unsafe.NullRef<byte>();
    }

    private readonly ref byte ResolveFiltered(ref Region region, uint offset, int size, MemoryAccess access)
    {
        if ((region.Access & access) != access || !region.Filter!.Allows((int)offset, size))
        {
            return ref Unsafe.NullRef<byte>();
        }
        Span<byte> bytes = region.Array is { } array ? array.AsSpan(region.Start, region.Length) : SlotOf(region.Slot);
        return ref (ulong)offset + (uint)size <= (uint)bytes.Length
            ? ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), (nint)offset)
            : ref Unsafe.NullRef<byte>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly Span<byte> SlotOf(int slot)
    {
        // Tests rather than a switch: the JIT makes a switch of four cases an indirect jump through a table, which
        // mispredicts where the slots alternate (socket, then sample); slot 0, the socket, is the usual one.
        if (slot == 0)
        {
            return _slot0;
        }
        if (slot == 1)
        {
            return _slot1;
        }
        return slot == 2 ? _slot2 : _slot3;
    }
}
