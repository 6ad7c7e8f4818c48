using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Vm;

public ref partial struct RunContext
{
    /// <summary>
    /// The fault for an access <see cref="TryResolve"/> refused, worded as the kernel would: the verifier's message
    /// for the kind of memory (check_mem_region_access, check_stack_access_within_bounds, check_ctx_access,
    /// btf_struct_access, bpf_tcp_ca_btf_struct_access), or the oops of a page fault for an address in no region.
    /// </summary>
    /// <param name="reg">The base register of the instruction, or -1 for a helper's access.</param>
    internal readonly BpfFault MemoryFault(int pc, int reg, ulong address, int size, MemoryAccess access)
    {
        var (kind, message) = Explain(reg, address, size, access);
        return new BpfFault(kind, pc, message, address, size, access);
    }

    private readonly (FaultKind, string) Explain(int reg, ulong address, int size, MemoryAccess access)
    {
        ulong relative = address - AddressSpace.Base;
        uint handle = (uint)(relative >> 32);
        long offset = (uint)relative;
        string r = reg >= 0 ? $"R{reg} " : "";
        if (handle >= (uint)AddressSpace.MaxRegions)
        {
            // Not even shaped like a pointer: the verifier would have typed the register a scalar.
            return (FaultKind.InvalidMemoryAccess, $"{r}invalid mem access 'scalar'");
        }
        var regions = _memory.Regions;
        // An offset in the top half of a handle's range is a pointer moved below the start of the next region.
        if (offset >= 0x8000_0000 && handle + 1 < (uint)_memory.Count && regions[handle + 1].Access != MemoryAccess.None)
        {
            handle++;
            offset -= 0x1_0000_0000;
        }
        if (handle >= (uint)_memory.Count || regions[handle].Access == MemoryAccess.None)
        {
            return (FaultKind.InvalidMemoryAccess, $"BUG: unable to handle page fault for address: {address:x16}");
        }
        ref Region region = ref regions[handle];
        int length = region.Array is null ? SlotOf(region.Slot).Length : region.Length;
        bool write = (access & MemoryAccess.Write) != 0;
        if (write && (region.Access & MemoryAccess.Write) == 0)
        {
            return (FaultKind.WriteNotAllowed, region.Kind switch
            {
                RegionKind.MapValue => $"write into map forbidden, value_size={length} off={offset} size={size}",
                RegionKind.Context => $"invalid bpf_context access off={offset} size={size}",
                RegionKind.KernelObject => "only read is supported",
                RegionKind.Stack => $"{r}frame pointer is read only",
                _ => $"{r}cannot write into rdonly_mem",
            });
        }
        if (offset >= 0 && offset + size <= length && write && region.Filter?.Explain((int)offset, size) is { } refused)
        {
            return (FaultKind.WriteNotAllowed, refused);
        }
        if (region.Kind != RegionKind.Stack && region.Array is null && length == 0)
        {
            return (FaultKind.InvalidMemoryAccess, $"BUG: unable to handle page fault for address: {address:x16} ({region.Name} not bound for this call)");
        }
        string verb = reg < 0 ? " indirect access to" : write ? " write to" : " read from";
        return (FaultKind.InvalidMemoryAccess, region.Kind switch
        {
            RegionKind.Stack => $"invalid{verb} stack {r}off={offset - AddressSpace.StackSize} size={size}",
            RegionKind.MapValue => $"invalid access to map value, value_size={length} off={offset} size={size}",
            RegionKind.Context => $"invalid bpf_context access off={offset} size={size}",
            RegionKind.KernelObject => $"access beyond struct {region.Name} at off {offset} size {size}",
            // check_packet_access: the program did not check data + off + size <= data_end (off from data_meta here).
            RegionKind.Packet => $"invalid access to packet, off={offset} size={size}, R{Math.Max(reg, 0)}(id=0,off={offset},r=0)",
            _ => $"invalid access to memory, mem_size={length} off={offset} size={size}",
        });
    }
}
