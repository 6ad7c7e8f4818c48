using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>Create-time checks of array_map_alloc_check and htab_map_alloc_check.</summary>
[Category("Core")]
public sealed class MapCreateTests
{
    private static IEnumerable<TestCaseData> Invalid()
    {
        yield return new TestCaseData(MapType.Array, 8u, 8u, 4u, MapFlags.None, "", Errno.EINVAL).SetName("Array_KeySizeNot4_EINVAL");
        yield return new TestCaseData(MapType.Array, 4u, 0u, 4u, MapFlags.None, "", Errno.EINVAL).SetName("Array_ValueSizeZero_EINVAL");
        yield return new TestCaseData(MapType.Array, 4u, 8u, 0u, MapFlags.None, "", Errno.EINVAL).SetName("Array_MaxEntriesZero_EINVAL");
        yield return new TestCaseData(MapType.Array, 4u, 8u, 4u, MapFlags.NoPrealloc, "", Errno.EINVAL).SetName("Array_NoPreallocFlag_EINVAL");
        yield return new TestCaseData(MapType.PercpuArray, 4u, 8u, 4u, MapFlags.InnerMap, "", Errno.EINVAL).SetName("PercpuArray_InnerMapFlag_EINVAL");
        yield return new TestCaseData(MapType.PercpuArray, 4u, 40_000u, 4u, MapFlags.None, "", Errno.E2BIG).SetName("PercpuArray_ValueOver32KiB_E2BIG");
        yield return new TestCaseData(MapType.Hash, 0u, 8u, 4u, MapFlags.None, "", Errno.EINVAL).SetName("Hash_KeySizeZero_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 8u, 0u, MapFlags.None, "", Errno.EINVAL).SetName("Hash_MaxEntriesZero_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 8u, 4u, MapFlags.Mmapable, "", Errno.EINVAL).SetName("Hash_MmapableFlag_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 8u, 4u, MapFlags.NoCommonLru, "", Errno.EINVAL).SetName("Hash_NoCommonLruOnPlainHash_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 5_000_000u, 4u, MapFlags.None, "", Errno.E2BIG).SetName("Hash_ElementOverKmallocMax_E2BIG");
        yield return new TestCaseData(MapType.PercpuHash, 8u, 33_000u, 4u, MapFlags.None, "", Errno.E2BIG).SetName("PercpuHash_ValueOver32KiB_E2BIG");
        yield return new TestCaseData((MapType)99, 8u, 8u, 4u, MapFlags.None, "", Errno.EINVAL).SetName("UnknownType_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 8u, 4u, MapFlags.None, "name_that_is_too_long", Errno.EINVAL).SetName("NameOver15Chars_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 8u, 4u, MapFlags.None, "bad-name", Errno.EINVAL).SetName("NameWithDash_EINVAL");
        yield return new TestCaseData(MapType.Hash, 8u, 8u, 4u, MapFlags.RdOnly | MapFlags.WrOnly, "", Errno.EINVAL).SetName("RdOnlyAndWrOnly_EINVAL");
    }

    [TestCaseSource(nameof(Invalid))]
    public void MapCreate_Invalid_ReturnsKernelErrno(MapType type, uint key, uint value, uint max, MapFlags flags, string name, Errno expected)
    {
        var bpf = TestMaps.NewSystem();
        var r = bpf.MapCreate(new MapSpec { Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = flags, Name = name }, out int fd);
        Assert.That(r.Errno, Is.EqualTo(expected), r.Reason);
        Assert.That(r.Reason, Does.StartWith($"BPF_MAP_CREATE: {expected} ({(int)expected}): "));
        Assert.That(fd, Is.EqualTo(-1));
        Assert.That(bpf.Objects.Count(BpfObjectKind.Map), Is.Zero, "a failed create leaves no object behind");
    }

    [TestCase(MapType.Hash, 8u)]
    [TestCase(MapType.Array, 4u)]
    [TestCase(MapType.PercpuHash, 16u)]
    [TestCase(MapType.PercpuArray, 4u)]
    public void MapCreate_Valid_OpensFd(MapType type, uint key)
    {
        var bpf = TestMaps.NewSystem();
        Assert.That(bpf.MapCreate(new MapSpec { Type = type, KeySize = key, ValueSize = 8, MaxEntries = 16, Name = "ok_name.1" }, out int fd).IsOk);
        Assert.That(TestMaps.Live(bpf, fd).Type, Is.EqualTo(type));
    }
}
