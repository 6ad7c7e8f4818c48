using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Tests.Core.Bpf.Net;

/// <summary>The XDP hook's attach rules (dev_xdp_attach, bpf_xdp_link_update in net/core/dev.c).</summary>
[Category("Core")]
public sealed class XdpHookTests
{
    [Test]
    public void AddNetDevice_IfindexInCreationOrder_DuplicateNameThrows()
    {
        var rig = new PacketRig(devices: 2);
        Assert.That(rig.Bpf.NetDevices.Select(d => (d.Ifindex, d.Name)), Is.EqualTo(new[] { (1u, "eth0"), (2u, "eth1") }));
        Assert.Throws<ArgumentException>(() => rig.Bpf.AddNetDevice("eth1"));
    }

    [Test]
    public void EmptyHook_Passes()
    {
        var rig = new PacketRig();
        Assert.That(rig.Dev.Xdp.IsEmpty, Is.True);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
    }

    [Test]
    public void Attach_RunsProgram_QueryReportsId_DetachEmpties()
    {
        var rig = new PacketRig();
        int fd = rig.Xdp("drop", XdpAction.Drop);
        Assert.That(rig.Bpf.XdpAttach(1, fd, XdpFlags.None).IsOk);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Drop));
        Assert.That(rig.Bpf.XdpQuery(1, out uint id).IsOk);
        Assert.That(id, Is.EqualTo(rig.Prog(fd).Id));
        Assert.That(rig.Bpf.XdpAttach(1, -1, XdpFlags.None).IsOk);
        Assert.That(rig.Dev.Xdp.IsEmpty, Is.True);
    }

    [Test]
    public void Attach_HookHoldsReference_ProgramOutlivesItsFd()
    {
        var rig = new PacketRig();
        int fd = rig.Xdp("a");
        var prog = rig.Prog(fd);
        rig.Bpf.XdpAttach(1, fd, XdpFlags.None).ThrowIfFailed();
        rig.Bpf.Close(fd);
        Assert.That(prog.IsFreed, Is.False);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
        rig.Bpf.XdpAttach(1, -1, XdpFlags.None).ThrowIfFailed();
        Assert.That(prog.IsFreed, Is.True);
    }

    [Test]
    public void UpdateIfNoExist_WithProgramAttached_EBUSY()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a"), b = rig.Xdp("b");
        rig.Bpf.XdpAttach(1, a, XdpFlags.UpdateIfNoExist).ThrowIfFailed();
        Assert.That(rig.Bpf.XdpAttach(1, b, XdpFlags.UpdateIfNoExist).Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(rig.Bpf.XdpAttach(1, b, XdpFlags.None).IsOk, "without the flag the program is replaced");
        Assert.That(rig.Dev.Xdp.Program!.Name, Is.EqualTo("b"));
    }

    [Test]
    public void Replace_ExpectedMismatch_EEXIST_Match_Swaps()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a"), b = rig.Xdp("b"), c = rig.Xdp("c");
        rig.Bpf.XdpAttach(1, a, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.Bpf.XdpAttach(1, c, XdpFlags.Replace, expectedFd: b).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(rig.Bpf.XdpAttach(1, c, XdpFlags.Replace, expectedFd: -1).Errno, Is.EqualTo(Errno.EEXIST), "expecting none while a is attached");
        Assert.That(rig.Bpf.XdpAttach(1, c, XdpFlags.Replace, expectedFd: a).IsOk);
        Assert.That(rig.Dev.Xdp.Program!.Name, Is.EqualTo("c"));
    }

    [TestCase(XdpFlags.SkbMode | XdpFlags.DrvMode)]
    [TestCase(XdpFlags.DrvMode | XdpFlags.HwMode)]
    [TestCase((XdpFlags)(1u << 5))]
    public void InvalidFlags_EINVAL(XdpFlags flags)
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a");
        Assert.That(rig.Bpf.XdpAttach(1, a, flags).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void WrongProgramType_EINVAL_UnknownDevice_ENODEV_ClosedFd_EBADF()
    {
        var rig = new PacketRig();
        int tc = rig.Tc("tc");
        Assert.That(rig.Bpf.XdpAttach(1, tc, XdpFlags.None).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Bpf.XdpLinkCreate(tc, 1, out _).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Bpf.XdpAttach(9, rig.Xdp("a"), XdpFlags.None).Errno, Is.EqualTo(Errno.ENODEV));
        Assert.That(rig.Bpf.XdpAttach(1, 77, XdpFlags.None).Errno, Is.EqualTo(Errno.EBADF));
    }

    /// <summary>bpf_xdp_link_attach (net/core/dev.c): dev_get_by_index failing is -EINVAL, not -ENODEV as on netlink.</summary>
    [Test]
    public void XdpLinkCreate_UnknownIfindex_EINVAL_AsBpfXdpLinkAttach()
    {
        var rig = new PacketRig();
        Assert.That(rig.Bpf.XdpLinkCreate(rig.Xdp("a"), 9, out int link).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(link, Is.EqualTo(-1));
    }

    [Test]
    public void Link_BlocksNetlinkAttachAndDetach_AndASecondLink()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a"), b = rig.Xdp("b");
        Assert.That(rig.Bpf.XdpLinkCreate(a, 1, out int link).IsOk);
        Assert.That(rig.Bpf.XdpAttach(1, b, XdpFlags.None).Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(rig.Bpf.XdpAttach(1, -1, XdpFlags.None).Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(rig.Bpf.XdpLinkCreate(b, 1, out _).Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(rig.Dev.Xdp.Program!.Name, Is.EqualTo("a"));
        Assert.That(rig.Bpf.Close(link).IsOk);
        Assert.That(rig.Dev.Xdp.IsEmpty, Is.True, "releasing the last link fd detaches");
    }

    [Test]
    public void LinkOverNetlinkProgram_EBUSY()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a"), b = rig.Xdp("b");
        rig.Bpf.XdpAttach(1, a, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.Bpf.XdpLinkCreate(b, 1, out _).Errno, Is.EqualTo(Errno.EBUSY));
    }

    [Test]
    public void LinkUpdate_SwapsProgram_ReplaceMismatch_EPERM_Detached_ENOLINK()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a"), b = rig.Xdp("b", XdpAction.Drop), c = rig.Xdp("c");
        rig.Bpf.XdpLinkCreate(a, 1, out int link).ThrowIfFailed();
        Assert.That(rig.Bpf.LinkUpdate(link, b, oldProgFd: c).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(rig.Bpf.LinkUpdate(link, b, oldProgFd: a).IsOk);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Drop));
        Assert.That(rig.Bpf.LinkUpdate(link, c).IsOk, "without REPLACE");
        Assert.That(rig.Dev.Xdp.Program!.Name, Is.EqualTo("c"));
        Assert.That(rig.Bpf.LinkDetach(link).IsOk);
        Assert.That(rig.Dev.Xdp.IsEmpty, Is.True);
        Assert.That(rig.Bpf.LinkUpdate(link, a).Errno, Is.EqualTo(Errno.ENOLINK));
    }

    [Test]
    public void LinkUpdate_ProgramOfAnotherType_EINVAL()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a"), tc = rig.Tc("tc");
        rig.Bpf.XdpLinkCreate(a, 1, out int link).ThrowIfFailed();
        Assert.That(rig.Bpf.LinkUpdate(link, tc).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [TestCase(ProgramAttachType.XdpDevmap, "BPF_XDP_DEVMAP programs can not be attached to a device")]
    [TestCase(ProgramAttachType.XdpCpumap, "BPF_XDP_CPUMAP programs can not be attached to a device")]
    public void DevmapOrCpumapProgram_AttachLinkCreateAndLinkUpdate_EINVAL_AsDevXdpInstall(ProgramAttachType type, string message)
    {
        // net/core/dev.c dev_xdp_install: a program loaded for a devmap/cpumap entry is no device's.
        var rig = new PacketRig();
        rig.Bpf.ProgLoad(new ProgramSpec
        {
            Type = ProgramType.Xdp, Name = "entry_prog", ExpectedAttachType = type,
            Body = new PacketProgramFunc((ref PacketContext _) => (int)XdpAction.Pass),
        }, out int entry).ThrowIfFailed();
        var attach = rig.Bpf.XdpAttach(1, entry, XdpFlags.None);
        Assert.That((attach.Errno, attach.Cause), Is.EqualTo((Errno.EINVAL, message)));
        var create = rig.Bpf.XdpLinkCreate(entry, 1, out _);
        Assert.That((create.Errno, create.Cause), Is.EqualTo((Errno.EINVAL, message)));
        rig.Bpf.XdpLinkCreate(rig.Xdp("a"), 1, out int link).ThrowIfFailed();
        Assert.That(rig.Bpf.LinkUpdate(link, entry).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Dev.Xdp.Program!.Name, Is.EqualTo("a"));
        rig.Bpf.LinkDetach(link).ThrowIfFailed();
        var plain = rig.Xdp("b");
        Assert.That(rig.Bpf.XdpAttach(1, plain, XdpFlags.None).IsOk, "an XDP program loaded without an attach type attaches");
    }

    [Test]
    public void ProgInfo_NamesThePacketTypes()
    {
        var rig = new PacketRig();
        Assert.That(rig.Bpf.ObjGetInfoByFd(rig.Xdp("a"), out BpfProgInfo x).IsOk);
        Assert.That(rig.Bpf.ObjGetInfoByFd(rig.Tc("t"), out BpfProgInfo t).IsOk);
        Assert.That((x.Type, t.Type), Is.EqualTo(("xdp", "sched_cls")));
    }

    [Test]
    public void ProgLoad_PacketTypeWithWrongBody_EINVAL()
    {
        var rig = new PacketRig();
        var r = rig.Bpf.ProgLoad(new ProgramSpec { Type = ProgramType.Xdp, Name = "x", Body = new Func<int>(() => 0) }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Observer_SeesEveryProgramRun()
    {
        var rig = new PacketRig();
        var obs = new RecordingObserver();
        rig.Bpf.PacketObserver = obs;
        rig.Bpf.XdpAttach(1, rig.Xdp("a", XdpAction.Tx), XdpFlags.None).ThrowIfFailed();
        rig.RunXdp();
        Assert.That(obs.Runs, Is.EqualTo(new[] { ("eth0", "a", (int)XdpAction.Tx) }));
    }

    [Test]
    public void Stats_CountRunsOnlyWhenEnabled()
    {
        var rig = new PacketRig();
        int a = rig.Xdp("a");
        rig.Bpf.XdpAttach(1, a, XdpFlags.None).ThrowIfFailed();
        rig.RunXdp();
        Assert.That(rig.Prog(a).RunCount, Is.Zero);
        rig.Bpf.StatsEnabled = true;
        rig.RunXdp();
        rig.RunXdp();
        Assert.That(rig.Prog(a).RunCount, Is.EqualTo(2));
    }

    [TestCase(XdpFlags.Replace)]
    [TestCase(XdpFlags.UpdateIfNoExist)]
    [TestCase(XdpFlags.SkbMode | XdpFlags.DrvMode)]
    public void LinkCreate_NonModeFlagsOrTwoModes_EINVAL(XdpFlags flags)
    {
        var rig = new PacketRig();
        Assert.That(rig.Bpf.XdpLinkCreate(rig.Xdp("a"), 1, out _, flags).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Bpf.XdpLinkCreate(rig.Xdp("b"), 1, out _, XdpFlags.DrvMode).IsOk);
    }
}
