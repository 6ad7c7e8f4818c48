using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Tests.Programs;
using static BpfSim.Core.Ebpf.Asm.Insn;

namespace BpfSim.Tests.Ebpf.Xdp;

/// <summary>
/// The XDP helpers from bytecode (net/core/filter.c): bpf_redirect's flags rule, bpf_redirect_map on a DEVMAP with
/// the flags' fallback action (include/linux/filter.h __bpf_xdp_redirect_map), and a fault run returning XDP_ABORTED.
/// </summary>
[Category("Ebpf")]
public sealed class XdpHelperTests
{
    private const int Headroom = 256;

    /// <summary>An object (xdp_src_counter's, for its address space) with a devmap <c>tx_ports</c> holding device eth1 at key 0.</summary>
    private static (LoadedObject Obj, ulong DevmapPointer, uint Ifindex) Make()
    {
        var bpf = new BpfSystem();
        bpf.AddNetDevice("eth0");
        uint ifindex = bpf.AddNetDevice("eth1").Ifindex;
        ObjectLoader.Load(bpf, BpfObjects.Read("xdp_src_counter"), "xdp_src_counter", out var obj, autocreate: []).ThrowIfFailed();
        ObjectLoader.LoadXdpProgram(bpf, obj!, null, out _).ThrowIfFailed(); // maps the packet regions
        bpf.MapCreate(new MapSpec { Type = MapType.DevMap, KeySize = 4, ValueSize = 4, MaxEntries = 4, Name = "tx_ports" }, out int fd).ThrowIfFailed();
        bpf.MapUpdateElem(fd, BitConverter.GetBytes(0u), BitConverter.GetBytes(ifindex)).ThrowIfFailed();
        bpf.GetMap(fd, out var map).ThrowIfFailed();
        var handle = obj!.Map(new byte[64], 0, 64, RegionKind.KernelObject, MemoryAccess.Read, "map:tx_ports");
        ulong pointer = AddressSpace.AddressOf(handle);
        obj.AddMap("tx_ports", fd, map, pointer);
        return (obj, pointer, ifindex);
    }

    private static (int Action, uint Redirect, BytecodeProgram Program) Run(LoadedObject obj, Instruction[] insns, params int[] helperIds)
    {
        var helpers = new FunctionTable();
        foreach (int id in helperIds)
        {
            helpers.Add(id, HelperNames.TryGetName(id) ?? "?", XdpHelpers.For(id)!);
        }
        var program = new BytecodeProgram(obj, "t", "xdp", insns, helpers, new FunctionTable());
        var frame = new byte[4096 - 320];
        var ctx = new PacketContext { Frame = frame, Data = Headroom, DataMeta = Headroom, DataEnd = Headroom + 60, IngressIfindex = 1 };
        int action = program.RunPacket(ref ctx);
        return (action, ctx.RedirectIfindex, program);
    }

    private static Instruction[] RedirectMap(ulong map, int key, int flags) =>
        [.. LdImm64(1, map), Mov64Imm(2, key), Mov64Imm(3, flags), Call(XdpHelpers.RedirectMap), Exit()];

    [Test]
    public void GetCurrentPidTgid_IsAnXdpHelper_AsBpfBaseFuncProtoGivesIt()
    {
        // 6.12's bpf_base_func_proto has bpf_get_current_pid_tgid in its first switch, which xdp_func_proto falls back
        // to (kernel/bpf/helpers.c): every program type gets it. In softirq, current is no task of the simulation: 0.
        Assert.That(XdpHelpers.For(BaseHelpers.GetCurrentPidTgid), Is.Not.Null);
        var (obj, _, _) = Make();
        var (action, _, _) = Run(obj, [Call(BaseHelpers.GetCurrentPidTgid), Mov64Imm(0, 2), Exit()], BaseHelpers.GetCurrentPidTgid);
        Assert.That(action, Is.EqualTo(2), "XDP_PASS after the call");
    }

    [Test]
    public void RedirectMap_ToAnOccupiedSlot_IsRedirectToItsDevice()
    {
        var (obj, map, ifindex) = Make();
        var (action, target, _) = Run(obj, RedirectMap(map, 0, 0), XdpHelpers.RedirectMap);
        Assert.That((action, target), Is.EqualTo(((int)XdpAction.Redirect, ifindex)));
    }

    [TestCase(0, (int)XdpAction.Aborted, TestName = "RedirectMap_ToAnEmptySlot_WithoutFlags_IsAborted")]
    [TestCase((int)XdpAction.Pass, (int)XdpAction.Pass, TestName = "RedirectMap_ToAnEmptySlot_ReturnsTheFlagsAction")]
    [TestCase(1 << 5, (int)XdpAction.Aborted, TestName = "RedirectMap_WithAnUnknownFlag_IsAborted")]
    public void RedirectMap_Fallbacks(int flags, int expected)
    {
        var (obj, map, _) = Make();
        Assert.That(Run(obj, RedirectMap(map, 2, flags), XdpHelpers.RedirectMap).Action, Is.EqualTo(expected));
    }

    [Test]
    public void Redirect_ToAnIfindex_IsRedirect_AndAnyFlagIsAborted()
    {
        var (obj, _, _) = Make();
        var (action, target, _) = Run(obj, [Mov64Imm(1, 7), Mov64Imm(2, 0), Call(XdpHelpers.Redirect), Exit()], XdpHelpers.Redirect);
        Assert.That((action, target), Is.EqualTo(((int)XdpAction.Redirect, 7u)));
        Assert.That(Run(obj, [Mov64Imm(1, 7), Mov64Imm(2, 1), Call(XdpHelpers.Redirect), Exit()], XdpHelpers.Redirect).Action,
            Is.EqualTo((int)XdpAction.Aborted));
    }

    [Test]
    public void AReadPastDataEnd_FaultsTheRun_WhichIsAborted()
    {
        var (obj, _, _) = Make();
        var (action, _, program) = Run(obj, [Ldx(OpCode.W, 2, 1, 0), Ldx(OpCode.B, 0, 2, 60), Exit()]);
        Assert.That(action, Is.EqualTo((int)XdpAction.Aborted));
        Assert.That(program.Faults, Is.EqualTo(1));
        Assert.That(program.LastFault!.Message, Does.Contain("invalid access to packet"));
    }

    [Test]
    public void AdjustHead_FromBytecode_MovesData_AndItsBoundIsEinval()
    {
        var (obj, _, _) = Make();
        // r0 = bpf_xdp_adjust_head(ctx, -216): to the xdp_frame header, allowed; then -1 more: -EINVAL.
        Instruction[] insns = [Mov64Reg(6, 1), Mov64Imm(2, -(Headroom - 40)), Call(XdpHelpers.XdpAdjustHead), Mov64Reg(7, 0),
            Mov64Reg(1, 6), Mov64Imm(2, -1), Call(XdpHelpers.XdpAdjustHead), Alu64Reg(OpCode.Add, 0, 7), Exit()];
        var helpers = new FunctionTable();
        helpers.Add(XdpHelpers.XdpAdjustHead, "xdp_adjust_head", XdpHelpers.For(XdpHelpers.XdpAdjustHead)!);
        var program = new BytecodeProgram(obj, "t", "xdp", insns, helpers, new FunctionTable());
        var ctx = new PacketContext { Frame = new byte[4096 - 320], Data = Headroom, DataMeta = Headroom, DataEnd = Headroom + 60 };
        int r0 = program.RunPacket(ref ctx);
        Assert.That(r0, Is.EqualTo(-22));
        Assert.That(ctx.Data, Is.EqualTo(40));
    }
}
