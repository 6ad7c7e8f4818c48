using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.Net;
using BpfSim.Tests.Core.Bpf.Net;

namespace BpfSim.Tests.Core.Bpf.MultiProg;

/// <summary>The 2019 chain-call RFC's map as bpfsim models it: lookup per {prog id, action}, conditional updates, the
/// whole-map replace at the hook, references and the loop bound.</summary>
[Category("Core")]
public sealed class ChainCallMapTests
{
    private static int CreateMap(PacketRig rig, uint maxEntries = 16)
    {
        var r = rig.Bpf.MapCreate(new MapSpec { Type = MapType.ChainCall, KeySize = 8, ValueSize = 4, MaxEntries = maxEntries, Name = "chain" }, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    private static byte[] Key(uint progId, XdpAction action) => new ChainCallKey(progId, (uint)action).ToBytes();

    private static byte[] Fd(int fd) => BitConverter.GetBytes(fd);

    [TestCase(4u, 4u, 1u)]
    [TestCase(8u, 8u, 1u)]
    [TestCase(8u, 4u, 0u)]
    public void MapCreate_BadSizes_EINVAL(uint key, uint value, uint max)
    {
        var rig = new PacketRig();
        var r = rig.Bpf.MapCreate(new MapSpec { Type = MapType.ChainCall, KeySize = key, ValueSize = value, MaxEntries = max }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Run_FollowsProgIdAndAction_AbsentEntryReturnsTheAction()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        int a = rig.Xdp("A", XdpAction.Pass), b = rig.Xdp("B", XdpAction.Tx), c = rig.Xdp("C", XdpAction.Drop);
        uint idA = rig.Prog(a).Id;
        rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a)).ThrowIfFailed();
        rig.Bpf.MapUpdateElem(map, Key(idA, XdpAction.Pass), Fd(b)).ThrowIfFailed();
        rig.Bpf.MapUpdateElem(map, Key(idA, XdpAction.Drop), Fd(c)).ThrowIfFailed();
        rig.Bpf.XdpAttachChainMap(1, map, XdpFlags.None).ThrowIfFailed();
        var obs = new RecordingObserver();
        rig.Bpf.PacketObserver = obs;
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Tx));
        Assert.That(rig.Ran, Is.EqualTo(new[] { "A", "B" }));
        Assert.That(obs.ChainLookups, Is.EqualTo(3), "{0,0}, {A,PASS}, {B,TX}");
        Assert.That(obs.Runs.Select(x => x.Prog), Is.EqualTo(new[] { "A", "B" }));
        Assert.That(rig.Bpf.XdpQuery(1, out uint id).IsOk && id == 0, "a map is not a program");
    }

    [Test]
    public void Run_EmptyStart_Passes()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        rig.Bpf.XdpAttachChainMap(1, map, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.Dev.Xdp.IsEmpty, Is.False);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
    }

    [Test]
    public void Run_Cycle_StopsAfterTheTailCallLimit()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        int a = rig.Xdp("A", XdpAction.Pass);
        rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a)).ThrowIfFailed();
        rig.Bpf.MapUpdateElem(map, Key(rig.Prog(a).Id, XdpAction.Pass), Fd(a)).ThrowIfFailed();
        rig.Bpf.XdpAttachChainMap(1, map, XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(rig.Ran, Has.Count.EqualTo(1 + ChainCallMap.MaxChainCalls));
    }

    [Test]
    public void SyscallLookup_GivesProgId_ValueMustBeAnXdpProgram()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        int a = rig.Xdp("A"), tc = rig.Tc("T");
        Assert.That(rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(tc)).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(99)).Errno, Is.EqualTo(Errno.EBADF));
        rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a)).ThrowIfFailed();
        var value = new byte[4];
        Assert.That(rig.Bpf.MapLookupElem(map, Key(0, 0), value).IsOk);
        Assert.That(BitConverter.ToUInt32(value), Is.EqualTo(rig.Prog(a).Id));
        Assert.That(rig.Bpf.MapLookupElem(map, Key(5, XdpAction.Pass), value).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void UpdateExpected_ChangedEntry_EAGAIN_MatchingEntry_Swaps()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        int a = rig.Xdp("A"), b = rig.Xdp("B"), c = rig.Xdp("C");
        var start = Key(0, 0);
        Assert.That(rig.Bpf.MapUpdateElemExpected(map, start, Fd(a), expectedOldProgFd: -1).IsOk, "empty as expected");
        Assert.That(rig.Bpf.MapUpdateElemExpected(map, start, Fd(b), expectedOldProgFd: -1).Errno, Is.EqualTo(Errno.EAGAIN), "someone filled it");
        Assert.That(rig.Bpf.MapUpdateElemExpected(map, start, Fd(b), expectedOldProgFd: c).Errno, Is.EqualTo(Errno.EAGAIN), "holds A, not C");
        Assert.That(rig.Bpf.MapUpdateElemExpected(map, start, Fd(b), expectedOldProgFd: a).IsOk);
        Assert.That(rig.Bpf.MapUpdateElemExpected(map, Key(9, XdpAction.Pass), Fd(c), expectedOldProgFd: a).Errno, Is.EqualTo(Errno.EAGAIN), "empty, not A");
        Assert.That(rig.Bpf.MapDeleteElemExpected(map, start, expectedOldProgFd: a).Errno, Is.EqualTo(Errno.EAGAIN));
        Assert.That(rig.Bpf.MapDeleteElemExpected(map, start, expectedOldProgFd: b).IsOk);
        Assert.That(rig.Bpf.MapDeleteElem(map, start).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void Update_NoExistExist_Full()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig, maxEntries: 1);
        int a = rig.Xdp("A");
        Assert.That(rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a), UpdateFlags.Exist).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a), UpdateFlags.NoExist).IsOk);
        Assert.That(rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a), UpdateFlags.NoExist).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(rig.Bpf.MapUpdateElem(map, Key(1, XdpAction.Pass), Fd(a)).Errno, Is.EqualTo(Errno.E2BIG));
    }

    [Test]
    public void Entries_HoldProgramReferences_DeleteDropsThem()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        int a = rig.Xdp("A");
        var prog = rig.Prog(a);
        rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(a)).ThrowIfFailed();
        rig.Bpf.Close(a);
        Assert.That(prog.IsFreed, Is.False, "the entry keeps it");
        rig.Bpf.MapDeleteElem(map, Key(0, 0)).ThrowIfFailed();
        Assert.That(prog.IsFreed, Is.True);
    }

    [Test]
    public void AttachChainMap_WholeMapReplace_ExpectedMismatch_EEXIST()
    {
        var rig = new PacketRig();
        int m1 = CreateMap(rig), m2 = CreateMap(rig), m3 = CreateMap(rig);
        Assert.That(rig.Bpf.XdpAttachChainMap(1, m1, XdpFlags.Replace, expectedMapFd: -1).IsOk, "expect nothing attached");
        Assert.That(rig.Bpf.XdpAttachChainMap(1, m2, XdpFlags.Replace, expectedMapFd: m3).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(rig.Bpf.XdpAttachChainMap(1, m2, XdpFlags.UpdateIfNoExist).Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(rig.Bpf.XdpAttachChainMap(1, m2, XdpFlags.Replace, expectedMapFd: m1).IsOk);
        Assert.That(rig.Dev.Xdp.ChainMap!.Id, Is.EqualTo(TestMaps.Live(rig.Bpf, m2).Id));
        Assert.That(rig.Bpf.XdpAttach(1, rig.Xdp("A"), XdpFlags.None).Errno, Is.EqualTo(Errno.EBUSY), "a program cannot displace the map");
        Assert.That(rig.Bpf.XdpAttachChainMap(1, -1, XdpFlags.None).IsOk);
        Assert.That(rig.Dev.Xdp.IsEmpty, Is.True);
    }

    [Test]
    public void AttachChainMap_NotAChainMap_EINVAL_ProgramAttached_EBUSY()
    {
        var rig = new PacketRig();
        int hash = TestMaps.Create(rig.Bpf, MapType.Hash);
        Assert.That(rig.Bpf.XdpAttachChainMap(1, hash, XdpFlags.None).Errno, Is.EqualTo(Errno.EINVAL));
        rig.Bpf.XdpAttach(1, rig.Xdp("A"), XdpFlags.None).ThrowIfFailed();
        Assert.That(rig.Bpf.XdpAttachChainMap(1, CreateMap(rig), XdpFlags.None).Errno, Is.EqualTo(Errno.EBUSY));
    }

    [Test]
    public void AttachedMap_OutlivesItsFd_AndKeepsItsChain()
    {
        var rig = new PacketRig();
        int map = CreateMap(rig);
        rig.Bpf.MapUpdateElem(map, Key(0, 0), Fd(rig.Xdp("A", XdpAction.Drop))).ThrowIfFailed();
        rig.Bpf.XdpAttachChainMap(1, map, XdpFlags.None).ThrowIfFailed();
        rig.Bpf.Close(map);
        Assert.That(rig.RunXdp(), Is.EqualTo((int)XdpAction.Drop));
    }
}
