using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Tests.Core.Bpf.StructOps;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>Kernel details found in review: fd permissions, check order, template rules, padding, pointers that stay valid.</summary>
[Category("Core")]
public sealed class ReviewRegressionTests
{
    [Test]
    public void RdOnlyFd_UpdateEPERM_LookupWorks_WrOnlyFd_LookupEPERM()
    {
        var bpf = NewSystem();
        bpf.MapCreate(new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 4, Flags = MapFlags.RdOnly }, out int ro).ThrowIfFailed();
        Assert.That(bpf.MapUpdateElem(ro, U64(1), U64(1)).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(bpf.MapDeleteElem(ro, U64(1)).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(bpf.MapLookupElem(ro, U64(1), new byte[8]).Errno, Is.EqualTo(Errno.ENOENT));
        bpf.MapCreate(new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 4, Flags = MapFlags.WrOnly }, out int wo).ThrowIfFailed();
        Assert.That(bpf.MapUpdateElem(wo, U64(1), U64(1)).IsOk);
        Assert.That(bpf.MapLookupElem(wo, U64(1), new byte[8]).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(bpf.MapGetNextKey(wo, default, new byte[8]).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(Live(bpf, ro).Flags & (MapFlags.RdOnly | MapFlags.WrOnly), Is.EqualTo(MapFlags.None), "the flags describe the fd, not the map");
    }

    [Test]
    public void MapInMap_AllocCheckRunsBeforeTheTemplateIsLookedAt()
    {
        var bpf = NewSystem();
        var r = bpf.MapCreate(new MapSpec { Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 8, MaxEntries = 2, InnerMapFd = 99 }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL), "value_size is checked before the bad inner_map_fd");
    }

    [Test]
    public void PercpuArrayInnerMaps_DoNotCompareMaxEntries()
    {
        var bpf = NewSystem(wait: InnerMapReplaceWait.BatchSynchronize);
        int template = Create(bpf, MapType.PercpuArray, keySize: 4, valueSize: 8, maxEntries: 4);
        int outer = Create(bpf, MapType.ArrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 2, innerFd: template);
        int bigger = Create(bpf, MapType.PercpuArray, keySize: 4, valueSize: 8, maxEntries: 64);
        Assert.That(bpf.MapUpdateElem(outer, U32(0), U32((uint)bigger)).IsOk, "percpu_array_map_ops uses bpf_map_meta_equal");
    }

    [Test]
    public void HashWithMaxEntries2Pow31_IsE2BIG_NotAnException()
    {
        // htab_map_alloc: 2^31 buckets of 16 bytes pass U32_MAX (MapCreateKernelRulesTests has the exact limit).
        var bpf = NewSystem();
        Assert.That(bpf.MapCreate(new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 1u << 31 }, out _).Errno, Is.EqualTo(Errno.E2BIG));
        Assert.That(bpf.MapCreate(new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = (1u << 31) + 1 }, out _).Errno, Is.EqualTo(Errno.E2BIG));
    }

    [Test]
    public void ProgramPointer_StaysValidWhileTheHashTableGrows()
    {
        var bpf = NewSystem();
        int fd = Create(bpf, MapType.Hash, maxEntries: 10_000);
        var map = Live(bpf, fd);
        using var _ = bpf.EnterProgram(0);
        map.Update(U64(0), U64(1));
        var held = map.Lookup(U64(0));
        for (ulong k = 1; k < 5000; k++)
        {
            map.Update(U64(k), U64(k));
        }
        held[0] = 99; // write through the pointer taken before the table grew
        Assert.That(map.Lookup(U64(0))[0], Is.EqualTo(99));
    }

    [Test]
    public void StructOpsPadding_MustBeZero()
    {
        var (bpf, type) = TestOps.NewSystem();
        int fd = TestOps.CreateMap(bpf);
        var value = TestOps.StandardValue(bpf, "a");
        value[64 + 52] = 1; // between flags (48..51) and owner (56)
        var r = bpf.MapUpdateElem(fd, TestOps.Key0, value);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("padding"));
        Assert.That(type.Holes, Is.EqualTo(new[] { (52, 4) }));
    }

    [Test]
    public void LinkUpdate_BadFlagsBeforeTheLinkFd_OldMapFdWithoutReplace_EINVAL()
    {
        var (bpf, _) = TestOps.NewSystem();
        Assert.That(bpf.LinkUpdate(99, 98, flags: 1).Errno, Is.EqualTo(Errno.EINVAL), "flags are checked before the link fd");
        int map = TestOps.CreateMap(bpf, link: true);
        bpf.MapUpdateElem(map, TestOps.Key0, TestOps.StandardValue(bpf, "a")).ThrowIfFailed();
        bpf.LinkCreate(map, out int link).ThrowIfFailed();
        int next = TestOps.CreateMap(bpf, link: true);
        bpf.MapUpdateElem(next, TestOps.Key0, TestOps.StandardValue(bpf, "a")).ThrowIfFailed();
        Assert.That(bpf.LinkUpdate(link, next, flags: 0, oldMapFd: map).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(bpf.LinkUpdate(link, next, BpfSystem.LinkUpdateReplace, oldMapFd: 77).Errno, Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void LinkCreate_OnAnAlreadyLinkedMap_GivesTheTypesRegisterError()
    {
        var (bpf, _) = TestOps.NewSystem();
        int map = TestOps.CreateMap(bpf, link: true);
        bpf.MapUpdateElem(map, TestOps.Key0, TestOps.StandardValue(bpf, "a")).ThrowIfFailed();
        bpf.LinkCreate(map, out _).ThrowIfFailed();
        Assert.That(bpf.LinkCreate(map, out _).Errno, Is.EqualTo(Errno.EEXIST));
    }
}
