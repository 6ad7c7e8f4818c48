using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.MultiProg.LibXdp;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Tests.Core.Bpf.Net;

namespace BpfSim.Tests.Core.Bpf.MultiProg;

/// <summary>The libxdp dispatcher (xdp-dispatcher.c.in), freplace links (bpf_tracing_prog_attach) and libxdp's run
/// configuration and order (libxdp.c cmp_xdp_programs).</summary>
[Category("Core")]
public sealed class LibXdpDispatcherTests
{
    private static int Dispatcher(PacketRig rig, params XdpRunConfig[] slots)
    {
        var config = XdpDispatcherConfig.For(slots);
        var r = rig.Bpf.LoadXdpDispatcher(config, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    private static int Ext(PacketRig rig, string name, XdpAction ret, int target, string func)
    {
        var r = rig.Bpf.ProgLoad(new ProgramSpec
        {
            Type = ProgramType.Ext,
            Name = name,
            AttachProgFd = target,
            AttachFunc = func,
            Body = new PacketProgramFunc((ref PacketContext _) =>
            {
                rig.Ran.Add(name);
                return (int)ret;
            }),
        }, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    [Test]
    public void RunConfig_Defaults_Priority50_ChainOnPass()
    {
        var c = new XdpRunConfig();
        Assert.That((c.Priority, c.ChainCallActions), Is.EqualTo((50, 1u << (int)XdpAction.Pass)));
        Assert.That(c.ChainsOn(XdpAction.Pass) && !c.ChainsOn(XdpAction.Drop), Is.True);
        Assert.That(c.WithChainCall(XdpAction.Drop, true).ChainCallActions, Is.EqualTo((1u << 2) | (1u << 1)));
    }

    [Test]
    public void ConfigFor_AddsTheStubBitToEveryMask()
    {
        var config = XdpDispatcherConfig.For([new XdpRunConfig(), new XdpRunConfig(10, 0)]);
        Assert.That((config.Magic, config.DispatcherVersion, config.NumProgsEnabled), Is.EqualTo(((byte)236, (byte)2, (byte)2)));
        Assert.That(config.ChainCallActions[0], Is.EqualTo((1u << 2) | (1u << 31)));
        Assert.That(config.ChainCallActions[1], Is.EqualTo(1u << 31));
        Assert.That(config.RunPrios[1], Is.EqualTo(10u));
    }

    [Test]
    public void Dispatcher_RunsSlotsInOrder_StopsOnANonChainedAction()
    {
        var rig = new PacketRig();
        int d = Dispatcher(rig, new XdpRunConfig(), new XdpRunConfig(), new XdpRunConfig());
        int a = Ext(rig, "A", XdpAction.Pass, d, "prog0");
        int b = Ext(rig, "B", XdpAction.Drop, d, "prog1");
        int c = Ext(rig, "C", XdpAction.Pass, d, "prog2");
        foreach (var (fd, slot) in new[] { (a, "prog0"), (b, "prog1"), (c, "prog2") })
        {
            Assert.That(rig.Bpf.FreplaceLinkCreate(fd, d, slot, out _).IsOk);
        }
        rig.Bpf.XdpAttach(1, d, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Drop));
        Assert.That(rig.Ran, Is.EqualTo(new[] { "A", "B" }), "DROP is not in B's mask: C never runs");
    }

    [Test]
    public void Dispatcher_AllChain_ReturnsPassAfterTheLastSlot_EmptyStubSkipped()
    {
        var rig = new PacketRig();
        var chainAll = new XdpRunConfig(50, 0xFFFF_FFFFu >> 1);
        int d = Dispatcher(rig, chainAll, chainAll, chainAll);
        int a = Ext(rig, "A", XdpAction.Tx, d, "prog0");
        int c = Ext(rig, "C", XdpAction.Drop, d, "prog2");
        rig.Bpf.FreplaceLinkCreate(a, d, "prog0", out _).ThrowIfFailed();
        rig.Bpf.FreplaceLinkCreate(c, d, "prog2", out _).ThrowIfFailed();
        rig.Bpf.XdpAttach(1, d, XdpFlags.None).ThrowIfFailed();
        var obs = new RecordingObserver();
        rig.Bpf.PacketObserver = obs;
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(rig.Ran, Is.EqualTo(new[] { "A", "C" }), "slot 1 is a stub returning 31, which every mask chains on");
        Assert.That(obs.Runs.Select(r => r.Prog), Is.EqualTo(new[] { "A", "C", "xdp_dispatcher" }), "EXT slots and the dispatcher are all observed");
    }

    [Test]
    public void Dispatcher_SlotsBeyondNumProgsEnabled_DoNotRun()
    {
        var rig = new PacketRig();
        int d = Dispatcher(rig, new XdpRunConfig());
        int b = Ext(rig, "B", XdpAction.Drop, d, "prog1");
        rig.Bpf.FreplaceLinkCreate(b, d, "prog1", out _).ThrowIfFailed();
        rig.Bpf.XdpAttach(1, d, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(rig.Ran, Is.Empty);
    }

    [Test]
    public void FreplaceLink_SecondOnASlot_EBUSY_DetachRestoresTheStub()
    {
        var rig = new PacketRig();
        int d = Dispatcher(rig, new XdpRunConfig());
        int a = Ext(rig, "A", XdpAction.Drop, d, "prog0");
        int b = Ext(rig, "B", XdpAction.Drop, d, "prog0");
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, d, "prog0", out int link).IsOk);
        Assert.That(rig.Bpf.FreplaceLinkCreate(b, d, "prog0", out _).Errno, Is.EqualTo(Errno.EBUSY));
        rig.Bpf.XdpAttach(1, d, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Drop));
        Assert.That(rig.Bpf.LinkDetach(link).IsOk);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(rig.Bpf.FreplaceLinkCreate(b, d, "prog0", out _).IsOk, "the slot is free again");
    }

    [Test]
    public void FreplaceLink_MultiAttach_ToANewDispatcher_ThenTargetRequired()
    {
        var rig = new PacketRig();
        int d1 = Dispatcher(rig, new XdpRunConfig());
        int d2 = Dispatcher(rig, new XdpRunConfig(), new XdpRunConfig());
        int a = Ext(rig, "A", XdpAction.Drop, d1, "prog0");
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, 0, null, out _).IsOk, "the load-time target");
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, 0, null, out _).Errno, Is.EqualTo(Errno.EINVAL), "forgotten after the first attach");
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, d2, "prog1", out _).IsOk, "same program, another dispatcher and slot");
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, d2, null, out _).Errno, Is.EqualTo(Errno.EINVAL), "target and function go together");
    }

    [Test]
    public void FreplaceLink_NotExt_OrMissingFunction_EINVAL()
    {
        var rig = new PacketRig();
        int d = Dispatcher(rig, new XdpRunConfig());
        int a = Ext(rig, "A", XdpAction.Drop, d, "prog0");
        int x = rig.Xdp("X");
        Assert.That(rig.Bpf.FreplaceLinkCreate(x, d, "prog0", out _).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, d, "prog10", out _).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Bpf.FreplaceLinkCreate(a, x, "prog0", out _).Errno, Is.EqualTo(Errno.EINVAL), "X has no prog0");
    }

    [Test]
    public void ExtLoad_TargetRules()
    {
        var rig = new PacketRig();
        int d = Dispatcher(rig, new XdpRunConfig());
        int a = Ext(rig, "A", XdpAction.Drop, d, "prog0");
        ProgramSpec Spec(int target, string? func) => new()
        {
            Type = ProgramType.Ext,
            Name = "E",
            AttachProgFd = target,
            AttachFunc = func,
            Body = new PacketProgramFunc((ref PacketContext _) => 0),
        };
        Assert.That(rig.Bpf.ProgLoad(Spec(d, "nope"), out _).Errno, Is.EqualTo(Errno.EINVAL), "Subprog doesn't exist");
        Assert.That(rig.Bpf.ProgLoad(Spec(a, "prog0"), out _).Errno, Is.EqualTo(Errno.EINVAL), "Cannot recursively attach");
        Assert.That(rig.Bpf.ProgLoad(Spec(0, null), out _).Errno, Is.EqualTo(Errno.EINVAL), "no target");
        Assert.That(rig.Bpf.ProgLoad(Spec(77, "prog0"), out _).Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(rig.Bpf.ObjGetInfoByFd(a, out BpfProgInfo info).IsOk);
        Assert.That((info.Type, info.StructOpsType), Is.EqualTo(("ext", "prog0")));
    }

    [TestCase(235, 2)]
    [TestCase(236, 1)]
    [TestCase(236, 3)]
    public void LoadDispatcher_BadMagicOrVersion_EINVAL(int magic, int version)
    {
        var rig = new PacketRig();
        var config = XdpDispatcherConfig.For([new XdpRunConfig()]) with { Magic = (byte)magic, DispatcherVersion = (byte)version };
        Assert.That(rig.Bpf.LoadXdpDispatcher(config, out _).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ConfigOf_ReadsBackTheFrozenConfig_NotADispatcher_ENOENT()
    {
        var rig = new PacketRig();
        int d = Dispatcher(rig, new XdpRunConfig(7, 1u << 3));
        Assert.That(rig.Bpf.XdpDispatcherConfigOf(d, out var config).IsOk);
        Assert.That((config.NumProgsEnabled, config.RunPrios[0], config.ChainCallActions[0]), Is.EqualTo(((byte)1, 7u, (1u << 3) | (1u << 31))));
        Assert.That(rig.Bpf.XdpDispatcherConfigOf(rig.Xdp("X"), out _).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(rig.Bpf.ObjGetInfoByFd(d, out BpfProgInfo info).IsOk);
        Assert.That((info.Type, info.Name), Is.EqualTo(("xdp", "xdp_dispatcher")));
    }

    [Test]
    public void Order_PriorityThenNameThenLoadedThenSizeThenTagThenLoadTime()
    {
        XdpProgramSortKey K(int prio, string name, bool loaded = true, long size = 0, ulong tag = 0, long t = 0) => new(prio, name, loaded, size, tag, t);
        var keys = new[]
        {
            K(50, "b"), K(10, "z"), K(50, "a", loaded: false, size: 5), K(50, "a", loaded: false, size: 3),
            K(50, "a", tag: 9), K(50, "a", tag: 2, t: 20), K(50, "a", tag: 2, t: 10), K(60, "a"),
        };
        var sorted = keys.Order(XdpProgramOrder.Instance).ToArray();
        Assert.That(sorted, Is.EqualTo(new[]
        {
            K(10, "z"), K(50, "a", tag: 2, t: 10), K(50, "a", tag: 2, t: 20), K(50, "a", tag: 9),
            K(50, "a", loaded: false, size: 3), K(50, "a", loaded: false, size: 5), K(50, "b"), K(60, "a"),
        }));
        Assert.That(XdpProgramOrder.Instance.Compare(K(50, "B"), K(50, "a")), Is.LessThan(0), "strcmp: uppercase sorts first");
    }

    [Test]
    public void DispatcherSwap_ReplaceWithExpectedOld_OneStep_StaleExpectation_EEXIST()
    {
        var rig = new PacketRig();
        int d1 = Dispatcher(rig, new XdpRunConfig());
        int a = Ext(rig, "A", XdpAction.Pass, d1, "prog0");
        rig.Bpf.FreplaceLinkCreate(a, 0, null, out int l1).ThrowIfFailed();
        rig.Bpf.XdpAttach(1, d1, XdpFlags.UpdateIfNoExist).ThrowIfFailed();

        // The next dispatcher: B before A (priority 10), A moved by a second link (multi-attach).
        int d2 = Dispatcher(rig, new XdpRunConfig(10, XdpRunConfig.DefaultChainCallActions), new XdpRunConfig());
        int b = Ext(rig, "B", XdpAction.Pass, d2, "prog0");
        rig.Bpf.FreplaceLinkCreate(b, 0, null, out _).ThrowIfFailed();
        rig.Bpf.FreplaceLinkCreate(a, d2, "prog1", out _).ThrowIfFailed();
        int other = Dispatcher(rig, new XdpRunConfig());
        Assert.That(rig.Bpf.XdpAttach(1, d2, XdpFlags.Replace, expectedFd: other).Errno, Is.EqualTo(Errno.EEXIST), "someone else's dispatcher is expected");
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(rig.Ran, Is.EqualTo(new[] { "A" }), "still the old dispatcher");
        Assert.That(rig.Bpf.XdpAttach(1, d2, XdpFlags.Replace, expectedFd: d1).IsOk);
        rig.RunXdp();
        Assert.That(rig.Ran, Is.EqualTo(new[] { "B", "A" }), "the new dispatcher, in one swap");

        var old = rig.Prog(d1);
        rig.Bpf.Close(l1);
        rig.Bpf.Close(d1);
        Assert.That(old.IsFreed, Is.True, "the old dispatcher goes with its last link and fd");
        rig.RunXdp();
        Assert.That(rig.Ran, Is.EqualTo(new[] { "B", "A" }));
    }
}
