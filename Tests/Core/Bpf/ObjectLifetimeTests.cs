using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Tests.Core.Bpf;

[Category("Core")]
public sealed class ObjectLifetimeTests
{
    [Test]
    public void MapCreate_IdsIncreaseAndFdsAreLowestFreeFromThree()
    {
        var bpf = TestMaps.NewSystem();
        int a = TestMaps.Create(bpf, MapType.Hash);
        int b = TestMaps.Create(bpf, MapType.Hash);
        Assert.That((a, b), Is.EqualTo((3, 4)));
        uint idB = TestMaps.Live(bpf, b).Id;
        bpf.Close(a);
        int c = TestMaps.Create(bpf, MapType.Hash);
        Assert.That(c, Is.EqualTo(3), "the lowest free fd is reused");
        Assert.That(TestMaps.Live(bpf, c).Id, Is.EqualTo(idB + 1), "ids are not reused (idr_alloc_cyclic)");
    }

    [Test]
    public void Close_LastFd_FreesMapAndRemovesId()
    {
        var bpf = TestMaps.NewSystem();
        int fd = TestMaps.Create(bpf, MapType.Array, keySize: 4);
        var map = TestMaps.Live(bpf, fd);
        Assert.That((map.RefCount, map.UserCount), Is.EqualTo((1L, 1L)));
        Assert.That(bpf.Close(fd).IsOk);
        Assert.That(map.IsFreed, Is.True);
        Assert.That(bpf.Objects.TryGet(BpfObjectKind.Map, map.Id, out _), Is.False);
    }

    [Test]
    public void Close_FdNotOpen_EBADF()
    {
        var bpf = TestMaps.NewSystem();
        var r = bpf.Close(42);
        Assert.That(r.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(r.Reason, Does.StartWith("close: EBADF (9)"));
    }

    [Test]
    public void MapGetFdById_SecondFd_MapLivesUntilBothClosed()
    {
        var bpf = TestMaps.NewSystem();
        int fd = TestMaps.Create(bpf, MapType.Hash);
        var map = TestMaps.Live(bpf, fd);
        Assert.That(bpf.MapGetFdById(map.Id, out int fd2).IsOk);
        Assert.That((map.RefCount, map.UserCount), Is.EqualTo((2L, 2L)));
        bpf.Close(fd);
        Assert.That(map.IsFreed, Is.False);
        bpf.Close(fd2);
        Assert.That(map.IsFreed, Is.True);
    }

    [Test]
    public void MapGetFdById_UnknownId_ENOENT()
    {
        var bpf = TestMaps.NewSystem();
        var r = bpf.MapGetFdById(777, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(r.Reason, Does.Contain("BPF_MAP_GET_FD_BY_ID"));
    }

    [Test]
    public void Fds_ArePerProcess()
    {
        var bpf = TestMaps.NewSystem();
        int fd = TestMaps.Create(bpf, MapType.Hash);
        var owner = bpf.Caller;
        bpf.Caller = bpf.CreateProcess("other");
        var r = bpf.MapLookupElem(fd, new byte[8], new byte[8]);
        Assert.That(r.Errno, Is.EqualTo(Errno.EBADF));
        bpf.Caller = owner;
        Assert.That(bpf.MapLookupElem(fd, new byte[8], new byte[8]).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void ExitProcess_ClosesEveryFd()
    {
        var bpf = TestMaps.NewSystem();
        var p = bpf.CreateProcess("loader");
        bpf.Caller = p;
        var maps = Enumerable.Range(0, 3).Select(_ => TestMaps.Live(bpf, TestMaps.Create(bpf, MapType.Hash))).ToList();
        bpf.ExitProcess(p);
        Assert.That(maps.All(m => m.IsFreed));
        Assert.That(p.OpenFds, Is.Zero);
    }

    [Test]
    public void ObjGetInfoByFd_ReportsWhatWasCreated()
    {
        var bpf = TestMaps.NewSystem();
        bpf.MapCreate(new MapSpec { Type = MapType.PercpuHash, KeySize = 8, ValueSize = 12, MaxEntries = 100, Name = "stats" }, out int fd)
            .ThrowIfFailed();
        Assert.That(bpf.ObjGetInfoByFd(fd, out BpfMapInfo info).IsOk);
        Assert.That(info, Is.EqualTo(new BpfMapInfo(TestMaps.Live(bpf, fd).Id, "percpu_hash", "stats", 0, 8, 12, 100)));
    }

    [Test]
    public void MapCommands_OnUnopenedFd_EBADF()
    {
        var bpf = TestMaps.NewSystem();
        Assert.That(bpf.MapUpdateElem(9, new byte[8], new byte[8]).Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(bpf.MapDeleteElem(9, new byte[8]).Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(bpf.MapGetNextKey(9, default, new byte[8]).Errno, Is.EqualTo(Errno.EBADF));
    }
}
