using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>Map-in-map creation, template checks and lookups (kernel/bpf/map_in_map.c, fd-array and fd-htab ops).</summary>
[Category("Core")]
public sealed class MapInMapTests
{
    private BpfSystem _bpf = null!;

    [SetUp]
    public void SetUp() => _bpf = NewSystem(wait: InnerMapReplaceWait.BatchSynchronize);

    private int Inner(MapType type = MapType.Array, uint key = 4, uint value = 8, uint max = 4, MapFlags flags = MapFlags.None) =>
        Create(_bpf, type, keySize: key, valueSize: value, maxEntries: max, flags: flags);

    private int Outer(MapType type, int templateFd, uint key = 4) =>
        Create(_bpf, type, keySize: key, valueSize: 4, maxEntries: 8, innerFd: templateFd);

    private BpfResult CreateOuter(MapType type, int innerFd, uint valueSize = 4) =>
        _bpf.MapCreate(new MapSpec { Type = type, KeySize = 4, ValueSize = valueSize, MaxEntries = 8, InnerMapFd = innerFd }, out _);

    [Test]
    public void Create_WithoutInnerMapFd_EBADF() =>
        Assert.That(CreateOuter(MapType.ArrayOfMaps, 0).Errno, Is.EqualTo(Errno.EBADF));

    [Test]
    public void Create_TemplateIsMapInMap_EINVAL()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        var r = CreateOuter(MapType.HashOfMaps, outer);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("only one level"));
    }

    [TestCase(MapType.ArrayOfMaps)]
    [TestCase(MapType.HashOfMaps)]
    public void Create_ValueSizeNot4_EINVAL(MapType type) =>
        Assert.That(CreateOuter(type, Inner(), valueSize: 8).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void Create_RdOnlyProgOnArrayOfMaps_EINVAL() =>
        Assert.That(_bpf.MapCreate(new MapSpec
        {
            Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 2, InnerMapFd = Inner(), Flags = MapFlags.RdOnlyProg,
        }, out _).Errno, Is.EqualTo(Errno.EINVAL));

    private static IEnumerable<TestCaseData> Mismatches()
    {
        yield return new TestCaseData(MapType.Hash, 4u, 8u, 4u, MapFlags.None).SetName("Insert_WrongType_EINVAL");
        yield return new TestCaseData(MapType.Array, 4u, 16u, 4u, MapFlags.None).SetName("Insert_WrongValueSize_EINVAL");
        yield return new TestCaseData(MapType.Array, 4u, 8u, 5u, MapFlags.None).SetName("Insert_ArrayWithOtherMaxEntries_EINVAL");
        yield return new TestCaseData(MapType.Array, 4u, 8u, 4u, MapFlags.Mmapable).SetName("Insert_WrongFlags_EINVAL");
    }

    [TestCaseSource(nameof(Mismatches))]
    public void Insert_InnerMapNotMatchingTemplate(MapType type, uint key, uint value, uint max, MapFlags flags)
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        int bad = Inner(type, key, value, max, flags);
        var r = _bpf.MapUpdateElem(outer, U32(0), U32((uint)bad));
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("does not match the template"));
        Assert.That(Live(_bpf, bad).RefCount, Is.EqualTo(1), "a rejected inner map gains no reference");
    }

    [Test]
    public void Insert_TemplateWithInnerMapFlag_AcceptsOtherMaxEntries()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner(max: 4, flags: MapFlags.InnerMap));
        Assert.That(_bpf.MapUpdateElem(outer, U32(0), U32((uint)Inner(max: 100, flags: MapFlags.InnerMap))).IsOk);
    }

    [Test]
    public void Insert_HashInnerMaps_DoNotCompareMaxEntries()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner(MapType.Hash, key: 8, max: 4));
        Assert.That(_bpf.MapUpdateElem(outer, U32(0), U32((uint)Inner(MapType.Hash, key: 8, max: 1000))).IsOk);
    }

    [Test]
    public void ArrayOfMaps_FlagsOtherThanAny_EINVAL_IndexOutOfRange_E2BIG()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        int inner = Inner();
        Assert.That(_bpf.MapUpdateElem(outer, U32(0), U32((uint)inner), UpdateFlags.NoExist).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapUpdateElem(outer, U32(8), U32((uint)inner)).Errno, Is.EqualTo(Errno.E2BIG));
        Assert.That(_bpf.MapDeleteElem(outer, U32(8)).Errno, Is.EqualTo(Errno.E2BIG));
        Assert.That(_bpf.MapDeleteElem(outer, U32(1)).Errno, Is.EqualTo(Errno.ENOENT), "empty slot");
    }

    [Test]
    public void Update_BadInnerFd_EBADF()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        var r = _bpf.MapUpdateElem(outer, U32(0), U32(99));
        Assert.That(r.Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(r.Reason, Does.Contain("inner map fd 99"));
    }

    [Test]
    public void SyscallLookup_ReturnsInnerMapId_ProgramLookup_ReturnsTheMap()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        int innerFd = Inner();
        var inner = Live(_bpf, innerFd);
        _bpf.MapUpdateElem(outer, U32(3), U32((uint)innerFd)).ThrowIfFailed();
        var id = new byte[4];
        _bpf.MapLookupElem(outer, U32(3), id).ThrowIfFailed();
        Assert.That(ReadU32(id), Is.EqualTo(inner.Id));
        Assert.That(_bpf.MapLookupElem(outer, U32(4), id).Errno, Is.EqualTo(Errno.ENOENT));
        using (_bpf.EnterProgram(0))
        {
            Assert.That(Live(_bpf, outer).LookupInner(U32(3)), Is.SameAs(inner));
            Assert.That(Live(_bpf, outer).LookupInner(U32(4)), Is.Null);
        }
    }

    [Test]
    public void HashOfMaps_FollowsHashFlagRules()
    {
        int outer = Outer(MapType.HashOfMaps, Inner(), key: 8);
        int inner = Inner();
        Assert.That(_bpf.MapUpdateElem(outer, U64(1), U32((uint)inner), UpdateFlags.Exist).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(_bpf.MapUpdateElem(outer, U64(1), U32((uint)inner), UpdateFlags.NoExist).IsOk);
        Assert.That(_bpf.MapUpdateElem(outer, U64(1), U32((uint)inner), UpdateFlags.NoExist).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(Live(_bpf, inner).RefCount, Is.EqualTo(2), "the failed update dropped the reference it took");
        var id = new byte[4];
        _bpf.MapLookupElem(outer, U64(1), id).ThrowIfFailed();
        Assert.That(ReadU32(id), Is.EqualTo(Live(_bpf, inner).Id));
        Assert.That(_bpf.MapDeleteElem(outer, U64(1)).IsOk);
        Assert.That(_bpf.MapDeleteElem(outer, U64(1)).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void OuterMap_HoldsRefcntNotUsercnt_OnInner()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        int innerFd = Inner();
        var inner = Live(_bpf, innerFd);
        _bpf.MapUpdateElem(outer, U32(0), U32((uint)innerFd)).ThrowIfFailed();
        Assert.That((inner.RefCount, inner.UserCount), Is.EqualTo((2L, 1L)));
        _bpf.Close(innerFd);
        Assert.That((inner.RefCount, inner.UserCount, inner.IsFreed), Is.EqualTo((1L, 0L, false)));
        Assert.That(_bpf.MapGetFdById(inner.Id, out _).IsOk, "still reachable by id");
    }

    [Test]
    public void ProgramUpdateOfOuterMap_IsRejected()
    {
        int outer = Outer(MapType.ArrayOfMaps, Inner());
        using var _ = _bpf.EnterProgram(0);
        Assert.Throws<InvalidOperationException>(() => Live(_bpf, outer).Update(U32(0), U32(1)));
    }
}
