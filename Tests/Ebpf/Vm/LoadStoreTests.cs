using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using static BpfSim.Core.Ebpf.Asm.Insn;
using static BpfSim.Tests.Ebpf.Vm.TestVm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>Loads and stores on the stack and on mapped regions, little-endian, and the faults around them.</summary>
[Category("Ebpf")]
public sealed class LoadStoreTests(VmEngine engine) : VmEngineFixture(engine)
{
    [Test]
    public void StoreThenLoad_OnStack_RoundTripsEverySize()
    {
        ulong r0 = Run([.. Insn.LdImm64(1, 0x1122_3344_5566_7788),
            Stx(OpCode.DW, 10, 1, -8), Ldx(OpCode.B, 2, 10, -8), Ldx(OpCode.H, 3, 10, -8), Ldx(OpCode.W, 4, 10, -8), Ldx(OpCode.DW, 5, 10, -8),
            // Little-endian: the lowest address holds the lowest byte.
            JmpImm(OpCode.Jne, 2, 0x88, 5), JmpImm(OpCode.Jne, 3, 0x7788, 4), JmpImm(OpCode.Jne, 4, 0x5566_7788, 3),
            JmpReg(OpCode.Jne, 5, 1, 2),
            Mov64Imm(0, 1), Exit(),
            Mov64Imm(0, 0), Exit()]);
        Assert.That(r0, Is.EqualTo(1UL));
    }

    [Test]
    public void StoreImmediate_StoresLowBytesOfSignExtendedImm()
        => Assert.That(Run(St(OpCode.DW, 10, -8, -1), Ldx(OpCode.DW, 0, 10, -8), Exit()), Is.EqualTo(ulong.MaxValue));

    [Test]
    public void NarrowStore_LeavesNeighboursAlone()
        => Assert.That(Run(St(OpCode.DW, 10, -8, 0), St(OpCode.B, 10, -7, 0xab), Ldx(OpCode.DW, 0, 10, -8), Exit()), Is.EqualTo(0xab00UL));

    [TestCase(OpCode.B, 0xffUL, 0xffff_ffff_ffff_ffffUL)]
    [TestCase(OpCode.H, 0x8001UL, 0xffff_ffff_ffff_8001UL)]
    [TestCase(OpCode.W, 0x7fff_ffffUL, 0x7fff_ffffUL)]
    [TestCase(OpCode.W, 0x8000_0000UL, 0xffff_ffff_8000_0000UL)]
    public void SignExtendingLoad_ExtendsFromAccessSize(byte size, ulong stored, ulong expected)
        => Assert.That(Run([.. Insn.LdImm64(1, stored), Stx(OpCode.DW, 10, 1, -8), LdxSx(size, 0, 10, -8), Exit()]), Is.EqualTo(expected));

    [Test]
    public void Stack_StartsZeroedOnEveryRun()
    {
        var memory = new AddressSpace();
        Run([St(OpCode.DW, 10, -8, 42), Mov64Imm(0, 0), Exit()], [], memory: memory);
        Assert.That(Run([Ldx(OpCode.DW, 0, 10, -8), Exit()], [], memory: memory), Is.Zero);
    }

    [Test]
    public void StackAboveFramePointer_Faults()
    {
        var fault = Fault([Ldx(OpCode.DW, 0, 10, 0), Exit()]);
        Assert.Multiple(() =>
        {
            Assert.That(fault.Kind, Is.EqualTo(FaultKind.InvalidMemoryAccess));
            Assert.That(fault.Message, Is.EqualTo("invalid read from stack R10 off=0 size=8"));
            Assert.That(fault.Address, Is.EqualTo(AddressSpace.FramePointer(0)));
            Assert.That(fault.Size, Is.EqualTo(8));
            Assert.That(fault.Access, Is.EqualTo(MemoryAccess.Read));
        });
    }

    [Test]
    public void StackBelow512_Faults()
        => Assert.That(Fault([St(OpCode.DW, 10, -520, 1), Exit()]).Message, Is.EqualTo("invalid write to stack R10 off=-520 size=8"));

    [Test]
    public void NullDereference_FaultsAsScalarAccess()
    {
        var fault = Fault([Mov64Imm(1, 0), Ldx(OpCode.W, 0, 1, 16), Exit()]);
        Assert.That(fault.Message, Is.EqualTo("R1 invalid mem access 'scalar'"));
        Assert.That(fault.ProgramCounter, Is.EqualTo(1));
        Assert.That(fault.Address, Is.EqualTo(16UL));
    }

    [Test]
    public void UnmappedRegionAddress_FaultsLikeAPageFault()
    {
        ulong address = AddressSpace.AddressOf(new RegionHandle(100), 8);
        var fault = Fault([.. Insn.LdImm64(1, address), Ldx(OpCode.DW, 0, 1, 0), Exit()]);
        Assert.That(fault.Message, Is.EqualTo($"BUG: unable to handle page fault for address: {address:x16}"));
        Assert.That(address, Is.EqualTo(0xffff_88e4_0000_0008UL));
    }

    [Test]
    public void MapValue_ReadAndWriteInBounds()
    {
        var memory = new AddressSpace();
        var value = new byte[16];
        var region = memory.Map(value, RegionKind.MapValue, MemoryAccess.ReadWrite, "counts");
        ulong address = AddressSpace.AddressOf(region);
        ulong r0 = Run([St(OpCode.DW, 1, 8, 7), Ldx(OpCode.DW, 0, 1, 8), Alu64Imm(OpCode.Add, 0, 1), Exit()], [address], memory: memory);
        Assert.That(r0, Is.EqualTo(8UL));
        Assert.That(BitConverter.ToUInt64(value, 8), Is.EqualTo(7UL));
    }

    [Test]
    public void MapValuePastEnd_FaultsWithValueSize()
    {
        var memory = new AddressSpace();
        var region = memory.Map(new byte[12], RegionKind.MapValue, MemoryAccess.ReadWrite, "v");
        var fault = Fault([Ldx(OpCode.DW, 0, 1, 8), Exit()], [AddressSpace.AddressOf(region)], memory);
        Assert.That(fault.Message, Is.EqualTo("invalid access to map value, value_size=12 off=8 size=8"));
    }

    [Test]
    public void MapValueBeforeStart_ReportsNegativeOffset()
    {
        var memory = new AddressSpace();
        var region = memory.Map(new byte[8], RegionKind.MapValue, MemoryAccess.ReadWrite, "v");
        var fault = Fault([Ldx(OpCode.W, 0, 1, -4), Exit()], [AddressSpace.AddressOf(region)], memory);
        Assert.That(fault.Message, Is.EqualTo("invalid access to map value, value_size=8 off=-4 size=4"));
    }

    [Test]
    public void ReadOnlySection_RefusesWrites()
    {
        var memory = new AddressSpace();
        var rodata = memory.Map(new byte[8], RegionKind.MapValue, MemoryAccess.Read, ".rodata");
        var fault = Fault([St(OpCode.W, 1, 0, 1), Exit()], [AddressSpace.AddressOf(rodata)], memory);
        Assert.That(fault.Kind, Is.EqualTo(FaultKind.WriteNotAllowed));
        Assert.That(fault.Message, Is.EqualTo("write into map forbidden, value_size=8 off=0 size=4"));
        Assert.That(fault.Access, Is.EqualTo(MemoryAccess.Write));
    }

    [Test]
    public void ReadOnlyContext_RefusesWrites()
    {
        var memory = new AddressSpace();
        var ctx = memory.Map(new byte[16], RegionKind.Context, MemoryAccess.Read, "ctx");
        var fault = Fault([Stx(OpCode.DW, 1, 1, 8), Exit()], [AddressSpace.AddressOf(ctx)], memory);
        Assert.That(fault.Message, Is.EqualTo("invalid bpf_context access off=8 size=8"));
    }

    [Test]
    public void UnmappedRegion_FaultsAfterUnmap()
    {
        var memory = new AddressSpace();
        var region = memory.Map(new byte[8], RegionKind.Memory, MemoryAccess.ReadWrite, "m");
        ulong address = AddressSpace.AddressOf(region);
        memory.Unmap(region);
        Assert.That(Fault([Ldx(OpCode.B, 0, 1, 0), Exit()], [address], memory).Message, Does.StartWith("BUG: unable to handle page fault"));
    }

    [Test]
    public void CallScopedRegion_ReadsAndWritesTheBoundSpan()
    {
        var memory = new AddressSpace();
        var sock = memory.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock");
        uint[] fields = [10, 20, 30];
        var context = new RunContext(memory);
        context.Bind(sock, System.Runtime.InteropServices.MemoryMarshal.AsBytes(fields.AsSpan()));
        Instruction[] program = [Ldx(OpCode.W, 0, 1, 4), Alu64Imm(OpCode.Add, 0, 1), Stx(OpCode.W, 1, 0, 8), Exit()];
        ulong r0 = TestVm.Execute(program, ref context, [AddressSpace.AddressOf(sock)]);
        Assert.That(r0, Is.EqualTo(21UL));
        Assert.That(fields[2], Is.EqualTo(21u));
    }

    [Test]
    public void CallScopedRegion_PastSpanEnd_FaultsAsStructAccess()
    {
        var memory = new AddressSpace();
        var sock = memory.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock");
        var context = new RunContext(memory);
        context.Bind(sock, new byte[12]);
        try
        {
            TestVm.Execute([Ldx(OpCode.W, 0, 1, 12), Exit()], ref context, [AddressSpace.AddressOf(sock)]);
            Assert.Fail("no fault");
        }
        catch (BpfFault fault)
        {
            Assert.That(fault.Message, Is.EqualTo("access beyond struct tcp_sock at off 12 size 4"));
        }
    }

    [Test]
    public void CallScopedRegion_Unbound_Faults()
    {
        var memory = new AddressSpace();
        var sock = memory.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock");
        var fault = Fault([Ldx(OpCode.W, 0, 1, 0), Exit()], [AddressSpace.AddressOf(sock)], memory);
        Assert.That(fault.Message, Does.Contain("tcp_sock not bound for this call"));
    }

    [Test]
    public void WriteFilter_AllowsListedMembersAndRefusesOthersInKernelWords()
    {
        var memory = new AddressSpace();
        var filter = new WriteFilter("tcp_sock", [new WritableField(8, 4), new WritableField(16, 8, AnyOffsetWithin: true)]);
        var bytes = new byte[32];
        var sock = memory.Map(bytes, RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock", filter);
        ulong address = AddressSpace.AddressOf(sock);

        Run([St(OpCode.W, 1, 8, 5), St(OpCode.H, 1, 20, 6), Ldx(OpCode.W, 0, 1, 0), Exit()], [address], memory: memory);
        Assert.That(BitConverter.ToUInt32(bytes, 8), Is.EqualTo(5u));
        Assert.That(BitConverter.ToUInt16(bytes, 20), Is.EqualTo(6));

        var other = Fault([St(OpCode.W, 1, 0, 1), Exit()], [address], memory);
        Assert.That(other.Kind, Is.EqualTo(FaultKind.WriteNotAllowed));
        Assert.That(other.Message, Is.EqualTo("no write support to tcp_sock at off 0"));
        var tooWide = Fault([St(OpCode.DW, 1, 8, 1), Exit()], [address], memory);
        Assert.That(tooWide.Message, Is.EqualTo("write access at off 8 with size 8 beyond the member of tcp_sock ended at 12"));
    }

    [Test]
    public void WriteFilter_AllowsAgreesWithExplainAtEveryOffsetAndSize()
    {
        // Allows is a table lookup built from the members; Explain walks them, and gives the kernel's words.
        var filter = new WriteFilter("tcp_sock",
            [new WritableField(8, 4), new WritableField(16, 8, AnyOffsetWithin: true), new WritableField(20, 2), new WritableField(30, 1)]);
        foreach (int offset in Enumerable.Range(-2, 40))
        {
            foreach (int size in new[] { 1, 2, 4, 8 })
            {
                Assert.That(filter.Allows(offset, size), Is.EqualTo(filter.Explain(offset, size) is null), $"off {offset} size {size}");
            }
        }
        Assert.That(new WriteFilter("ack_sample", []).Allows(0, 1), Is.False);
    }

    [Test]
    public void ReadOnlyKernelObject_SaysOnlyReadIsSupported()
    {
        var memory = new AddressSpace();
        var rs = memory.Map(new byte[8], RegionKind.KernelObject, MemoryAccess.Read, "rate_sample");
        Assert.That(Fault([St(OpCode.W, 1, 0, 1), Exit()], [AddressSpace.AddressOf(rs)], memory).Message, Is.EqualTo("only read is supported"));
    }

    [Test]
    public void Run_AllocatesNothing()
    {
        var memory = new AddressSpace();
        var value = memory.Map(new byte[8], RegionKind.MapValue, MemoryAccess.ReadWrite, "v");
        Instruction[] program = [Mov64Imm(0, 0), Mov64Imm(2, 100), Ldx(OpCode.DW, 3, 1, 0), Alu64Imm(OpCode.Add, 3, 1), Stx(OpCode.DW, 1, 3, 0),
            Stx(OpCode.DW, 10, 3, -8), Alu64Imm(OpCode.Sub, 2, 1), JmpImm(OpCode.Jne, 2, 0, -6), Exit()];
        ulong[] args = [AddressSpace.AddressOf(value)];
        RunOnce(program, memory, args);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            RunOnce(program, memory, args);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void RunOnce(Instruction[] program, AddressSpace memory, ulong[] args)
    {
        var context = new RunContext(memory);
        TestVm.Execute(program, ref context, args);
    }
}
