using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using static BpfSim.Tests.Core.Bpf.StructOps.TestOps;

namespace BpfSim.Tests.Core.Bpf.StructOps;

/// <summary>struct_ops links: create, update and detach in the kernel's check order (bpf_struct_ops.c, 6.12).</summary>
[Category("StructOps")]
public sealed class StructOpsLinkTests
{
    private BpfSystem _bpf = null!;
    private TestOpsType _type = null!;

    [SetUp]
    public void SetUp() => (_bpf, _type) = NewSystem();

    private int ReadyLinkMap(string name, ulong add = 1)
    {
        int fd = CreateMap(_bpf, link: true);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, name, add)).ThrowIfFailed();
        return fd;
    }

    private StructOpsMap Map(int fd) => (StructOpsMap)TestMaps.Live(_bpf, fd);

    [Test]
    public void Update_LinkModeMap_IsReadyWithoutRegistering()
    {
        int fd = ReadyLinkMap("alpha");
        Assert.That(Map(fd).State, Is.EqualTo(StructOpsState.Ready));
        Assert.That(_type.Subsystem.Current, Is.Empty);
    }

    [Test]
    public void LinkCreate_ReadyMap_Registers_StaysReady()
    {
        int fd = ReadyLinkMap("alpha");
        Assert.That(_bpf.LinkCreate(fd, out int link).IsOk);
        Assert.That(_type.Subsystem.Current.Keys, Is.EqualTo(new[] { "alpha" }));
        Assert.That(Map(fd).State, Is.EqualTo(StructOpsState.Ready), "the kernel keeps a linked map READY");
        Assert.That(Map(fd).ReportedRefCount, Is.EqualTo(1), "the link's reference");
        Assert.That(link, Is.GreaterThan(fd));
    }

    [Test]
    public void LinkCreate_PlainMap_Or_InitMap_EINVAL()
    {
        int plain = CreateMap(_bpf);
        _bpf.MapUpdateElem(plain, Key0, StandardValue(_bpf, "plain")).ThrowIfFailed();
        Assert.That(_bpf.LinkCreate(plain, out _).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.LinkCreate(CreateMap(_bpf, link: true), out _).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.LinkCreate(77, out _).Errno, Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void LinkCreate_RegisterFails_ReturnsItsError_NoLinkLeft()
    {
        _bpf.LinkCreate(ReadyLinkMap("same"), out _).ThrowIfFailed();
        int second = ReadyLinkMap("same");
        Assert.That(_bpf.LinkCreate(second, out int link).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(link, Is.EqualTo(-1));
        Assert.That(_bpf.Objects.Count(BpfObjectKind.Link), Is.EqualTo(1));
        Assert.That(Map(second).ReportedRefCount, Is.Zero);
    }

    [Test]
    public void LinkUpdate_SwapsForNewUsers_OldUsersKeepOld_OldStaysReady()
    {
        int first = ReadyLinkMap("alpha", add: 1);
        int second = ReadyLinkMap("alpha", add: 100);
        _bpf.LinkCreate(first, out int link).ThrowIfFailed();
        var oldUser = _type.Subsystem.Adopt("alpha")!;
        Assert.That(_bpf.LinkUpdate(link, second).IsOk);
        var newUser = _type.Subsystem.Adopt("alpha")!;
        Assert.That(_type.Subsystem.Run(_bpf, oldUser, 0, 1), Is.EqualTo(2));
        Assert.That(_type.Subsystem.Run(_bpf, newUser, 0, 1), Is.EqualTo(101));
        Assert.That(Map(first).State, Is.EqualTo(StructOpsState.Ready));
        Assert.That(Map(first).ReportedRefCount, Is.EqualTo(1), "only the old user now");
        Assert.That(Map(second).ReportedRefCount, Is.EqualTo(2), "link + new user");
    }

    [Test]
    public void LinkUpdate_ChecksInKernelOrder()
    {
        int first = ReadyLinkMap("alpha");
        _bpf.LinkCreate(first, out int link).ThrowIfFailed();

        int plain = CreateMap(_bpf);
        _bpf.MapUpdateElem(plain, Key0, StandardValue(_bpf, "plain")).ThrowIfFailed();
        Assert.That(_bpf.LinkUpdate(link, plain).Errno, Is.EqualTo(Errno.EINVAL), "mixed_links: a non-link map");

        int renamed = ReadyLinkMap("other");
        Assert.That(_bpf.LinkUpdate(link, renamed).Errno, Is.EqualTo(Errno.EINVAL), "update_wrong: the type's update refuses another name");
        Assert.That(_type.Subsystem.Current.Keys, Does.Contain("alpha").And.Not.Contain("other"), "and the old one keeps working");

        int next = ReadyLinkMap("alpha");
        int unrelated = ReadyLinkMap("beta");
        Assert.That(_bpf.LinkUpdate(link, next, BpfSystem.LinkUpdateReplace, unrelated).Errno, Is.EqualTo(Errno.EPERM), "link_replace: wrong old map");
        Assert.That(_bpf.LinkUpdate(link, first).Errno, Is.EqualTo(Errno.EINVAL), "the map the link already holds");
        Assert.That(_bpf.LinkUpdate(link, next, BpfSystem.LinkUpdateReplace, first).IsOk, "link_replace: right old map");

        _bpf.LinkDetach(link).ThrowIfFailed();
        Assert.That(_bpf.LinkUpdate(link, first).Errno, Is.EqualTo(Errno.ENOLINK));
    }

    [Test]
    public void LinkUpdate_TypeWithoutUpdate_EOPNOTSUPP_OtherType_EINVAL()
    {
        var noUpdate = new TestOpsType("fixed_ops", supportsUpdate: false);
        _bpf.RegisterStructOpsType(noUpdate);
        int a = CreateMap(_bpf, link: true, type: "fixed_ops");
        _bpf.MapUpdateElem(a, Key0, StandardValue(_bpf, "x", type: "fixed_ops")).ThrowIfFailed();
        int b = CreateMap(_bpf, link: true, type: "fixed_ops");
        _bpf.MapUpdateElem(b, Key0, StandardValue(_bpf, "x", type: "fixed_ops")).ThrowIfFailed();
        _bpf.LinkCreate(a, out int link).ThrowIfFailed();
        Assert.That(_bpf.LinkUpdate(link, b).Errno, Is.EqualTo(Errno.EOPNOTSUPP));

        int testOps = ReadyLinkMap("x");
        _bpf.LinkCreate(ReadyLinkMap("y"), out int testLink).ThrowIfFailed();
        Assert.That(_bpf.LinkUpdate(testLink, a).Errno, Is.EqualTo(Errno.EOPNOTSUPP), "the new map's type has no update");
        Assert.That(_bpf.LinkUpdate(link, testOps).Errno, Is.EqualTo(Errno.EINVAL), "the new map's type has update, but it is another type");
    }

    [Test]
    public void LinkUpdate_DifferentType_EINVAL()
    {
        var other = new TestOpsType("other_ops");
        _bpf.RegisterStructOpsType(other);
        int mine = ReadyLinkMap("x");
        int theirs = CreateMap(_bpf, link: true, type: "other_ops");
        _bpf.MapUpdateElem(theirs, Key0, StandardValue(_bpf, "x", type: "other_ops")).ThrowIfFailed();
        _bpf.LinkCreate(mine, out int link).ThrowIfFailed();
        var r = _bpf.LinkUpdate(link, theirs);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("other_ops"));
    }

    [Test]
    public void Detach_Unregisters_IsIdempotent_MapCanBeLinkedAgain()
    {
        int fd = ReadyLinkMap("alpha");
        _bpf.LinkCreate(fd, out int link).ThrowIfFailed();
        Assert.That(_bpf.LinkDetach(link).IsOk);
        Assert.That(_type.Subsystem.Current, Is.Empty);
        Assert.That(_bpf.LinkDetach(link).IsOk, "detach twice is fine");
        Assert.That(Map(fd).ReportedRefCount, Is.Zero);
        _bpf.Close(link);
        Assert.That(_bpf.LinkCreate(fd, out _).IsOk, "multi_links: link the same map again");
    }

    [Test]
    public void ClosingLastLinkFd_Unregisters()
    {
        int fd = ReadyLinkMap("alpha");
        _bpf.LinkCreate(fd, out int link).ThrowIfFailed();
        var user = _type.Subsystem.Adopt("alpha")!;
        _bpf.Close(link);
        Assert.That(_type.Subsystem.Current, Is.Empty);
        Assert.That(Map(fd).ReportedRefCount, Is.EqualTo(1), "the remaining user");
        Assert.That(_type.Subsystem.Run(_bpf, user, 1, 1), Is.EqualTo(2));
    }

    [Test]
    public void LinkCommands_OnNonLinkFd_EINVAL_BadFd_EBADF()
    {
        int fd = ReadyLinkMap("alpha");
        Assert.That(_bpf.LinkDetach(fd).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.LinkDetach(55).Errno, Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void Detach_DuringAnotherDetachsGracePeriod_DetachesOnce()
    {
        int fd = ReadyLinkMap("alpha");
        _bpf.LinkCreate(fd, out int link).ThrowIfFailed();
        var map = Map(fd);
        _type.Subsystem.DuringUnregister = () => Assert.That(_bpf.LinkDetach(link).IsOk, "the second detach finds nothing to do");

        Assert.That(_bpf.LinkDetach(link).IsOk);

        Assert.That(map.LinkCount, Is.Zero);
        Assert.That(map.ReportedRefCount, Is.Zero, "the link's one reference was dropped once");
        _bpf.Close(link);
        _bpf.Close(fd);
        _bpf.Simulator.RunUntil(_bpf.Simulator.Now + BpfSim.Core.Simulation.SimTime.FromMilliseconds(20));
        Assert.That(map.IsFreed, "freed once its last reference went, without dropping below zero");
    }

    [Test]
    public void Detach_DuringUpdate_IsCarriedOutAfterTheSwap()
    {
        int oldFd = ReadyLinkMap("alpha");
        int newFd = ReadyLinkMap("alpha", add: 2);
        _bpf.LinkCreate(oldFd, out int link).ThrowIfFailed();
        _type.Subsystem.DuringUpdate = () => Assert.That(_bpf.LinkDetach(link).IsOk, "waits for the update, as for update_mutex");

        Assert.That(_bpf.LinkUpdate(link, newFd).IsOk);

        Assert.That(_type.Subsystem.Current, Is.Empty, "the detach unregistered the map the update put in");
        Assert.That(Map(oldFd).LinkCount, Is.Zero);
        Assert.That(Map(newFd).LinkCount, Is.Zero);
        Assert.That(Map(oldFd).ReportedRefCount, Is.Zero);
        Assert.That(Map(newFd).ReportedRefCount, Is.Zero);
        Assert.That(_bpf.LinkUpdate(link, oldFd).Errno, Is.EqualTo(Errno.ENOLINK));
    }

    [Test]
    public void Update_DuringAnUpdateOfTheSameLink_EBUSY()
    {
        int first = ReadyLinkMap("alpha");
        int second = ReadyLinkMap("alpha", add: 2);
        int third = ReadyLinkMap("alpha", add: 3);
        _bpf.LinkCreate(first, out int link).ThrowIfFailed();
        BpfResult nested = BpfResult.Ok;
        _type.Subsystem.DuringUpdate = () => nested = _bpf.LinkUpdate(link, third);

        Assert.That(_bpf.LinkUpdate(link, second).IsOk);

        Assert.That(nested.Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(Map(second).LinkCount, Is.EqualTo(1));
        Assert.That(Map(third).LinkCount, Is.Zero);
    }
}
