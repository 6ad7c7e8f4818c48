using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// BPF_MAP_CREATE and map updates as Linux 6.12 decides them: map_create's own checks (kernel/bpf/syscall.c), the
/// types' alloc checks and allocation limits (hashtab.c, arraymap.c), map_check_btf with each type's map_check_btf op,
/// the inner-map templates bpf_map_meta_alloc accepts (map_in_map.c), array_map_update_elem's order and the id space.
/// </summary>
public sealed class MapCreateKernelRulesTests
{
    // 1 u32, 2 u64, 3 struct pair { u64 a; u64 b; }, 4 var x (u64), 5 DATASEC .data { x }, 6 typedef __u32 -> 1
    private static readonly BtfSpec s_btf = new(
    [
        new BtfInt("unsigned int", 4, BtfIntEncoding.None, 0, 32),
        new BtfInt("unsigned long long", 8, BtfIntEncoding.None, 0, 64),
        new BtfComposite("pair", false, 16, [new BtfMember("a", 2, 0, 0), new BtfMember("b", 2, 64, 0)]),
        new BtfVar("x", 2, BtfLinkage.Global),
        new BtfDatasec(".data", 8, [new BtfVarSecInfo(4, 0, 8)]),
        new BtfAlias(BtfKind.Typedef, "__u32", 1),
    ]);

    private static Errno CreateErrno(MapSpec spec, BpfSystem? bpf = null) => (bpf ?? NewSystem()).MapCreate(spec, out _).Errno;

    [Test]
    public void HashAbove2Pow27Entries_IsE2BIG_AsItsBucketArrayWouldPassU32Max()
    {
        // htab_map_alloc: n_buckets = roundup_pow_of_two(max_entries) > U32_MAX / sizeof(struct bucket) (16 bytes).
        var spec = new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 1u << 27 };
        Assert.Multiple(() =>
        {
            Assert.That(CreateErrno(spec), Is.EqualTo(Errno.None), "2^27 buckets are 2 GiB, within U32_MAX");
            Assert.That(CreateErrno(spec with { MaxEntries = (1u << 27) + 1 }), Is.EqualTo(Errno.E2BIG));
            Assert.That(CreateErrno(spec with { MaxEntries = 1u << 31 }), Is.EqualTo(Errno.E2BIG));
            Assert.That(CreateErrno(spec with { MaxEntries = uint.MaxValue }), Is.EqualTo(Errno.E2BIG));
        });
    }

    [TestCase(MapType.PercpuHash, 8u)]
    [TestCase(MapType.PercpuArray, 4u)]
    public void PerCpuMapWithNumaNode_IsEinval(MapType type, uint keySize)
    {
        var spec = new MapSpec { Type = type, KeySize = keySize, ValueSize = 8, MaxEntries = 4, Flags = MapFlags.NumaNode };
        Assert.That(CreateErrno(spec), Is.EqualTo(Errno.EINVAL));
        Assert.That(CreateErrno(spec with { Type = type == MapType.PercpuHash ? MapType.Hash : MapType.Array }), Is.EqualTo(Errno.None),
            "the plain type takes BPF_F_NUMA_NODE");
    }

    [Test]
    public void NumaNodeOtherThanZero_IsEinval_AndIsReadOnlyWithTheFlag()
    {
        var spec = new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 4, NumaNode = 1 };
        Assert.Multiple(() =>
        {
            Assert.That(CreateErrno(spec), Is.EqualTo(Errno.None), "numa_node is ignored without BPF_F_NUMA_NODE");
            Assert.That(CreateErrno(spec with { Flags = MapFlags.NumaNode }), Is.EqualTo(Errno.EINVAL));
            Assert.That(CreateErrno(spec with { Flags = MapFlags.NumaNode, NumaNode = 0 }), Is.EqualTo(Errno.None));
        });
    }

    [TestCase(MapType.Hash)]
    [TestCase(MapType.Array)]
    [TestCase(MapType.Queue)]
    public void MapExtra_IsEinval_OutsideBloomFiltersAndArenas(MapType type)
    {
        var spec = new MapSpec { Type = type, KeySize = type == MapType.Queue ? 0u : 4u, ValueSize = 8, MaxEntries = 4 };
        Assert.That(CreateErrno(spec), Is.EqualTo(Errno.None));
        Assert.That(CreateErrno(spec with { MapExtra = 1 }), Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ArrayTooLargeToHold_IsEnomem_AndLeavesNoMapId()
    {
        var bpf = NewSystem();
        // 2^30 elements of 8 bytes: array_map_alloc would ask bpf_map_area_alloc for 8 GiB.
        Assert.That(CreateErrno(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1u << 30 }, bpf), Is.EqualTo(Errno.ENOMEM));
        Assert.That(CreateErrno(new MapSpec { Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 1u << 31 }, bpf),
            Is.Not.EqualTo(Errno.None));
        Assert.That(bpf.Objects.Count(BpfObjectKind.Map), Is.Zero, "no id was allocated for a map that was not created");
        int fd = Create(bpf, MapType.Array, keySize: 4);
        Assert.That(Live(bpf, fd).Id, Is.EqualTo(1u));
    }

    [Test]
    public void PercpuArray_CountsEveryCpusSlotAgainstTheLimit()
    {
        var spec = new MapSpec { Type = MapType.PercpuArray, KeySize = 4, ValueSize = 8, MaxEntries = 1u << 26 };
        Assert.That(CreateErrno(spec, NewSystem(cpus: 1)), Is.EqualTo(Errno.None), "512 MiB on one CPU");
        Assert.That(CreateErrno(spec, NewSystem(cpus: 8)), Is.EqualTo(Errno.ENOMEM), "4 GiB over 8 CPUs");
    }

    [Test]
    public void ArrayUpdateFromAProgram_FollowsArrayMapUpdateElemsOrder()
    {
        var bpf = NewSystem();
        var map = Live(bpf, Create(bpf, MapType.Array, keySize: 4, maxEntries: 2));
        using var _ = bpf.EnterProgram(0);
        Assert.Multiple(() =>
        {
            Assert.That(map.Update(U32(0), U64(1), UpdateFlags.FLock | UpdateFlags.NoExist), Is.EqualTo(Errno.EEXIST),
                "BPF_NOEXIST is checked before BPF_F_LOCK");
            Assert.That(map.Update(U32(9), U64(1), UpdateFlags.FLock), Is.EqualTo(Errno.E2BIG), "the index is checked before BPF_F_LOCK");
            Assert.That(map.Update(U32(0), U64(1), UpdateFlags.FLock), Is.EqualTo(Errno.EINVAL), "no bpf_spin_lock in the value");
            Assert.That(map.Update(U32(0), U64(1), UpdateFlags.FLock << 1), Is.EqualTo(Errno.EINVAL), "an unknown flag");
            Assert.That(map.Update(U32(0), U64(1), UpdateFlags.Exist), Is.EqualTo(Errno.None));
        });
    }

    [Test]
    public void ObjectIds_AreBelowIntMax_AndWrapToOne()
    {
        // idr_alloc_cyclic(&map_idr, map, 1, INT_MAX, ...): the end is exclusive.
        Assert.Multiple(() =>
        {
            Assert.That(ObjectTable.NextAfter(int.MaxValue - 2), Is.EqualTo((uint)int.MaxValue - 1));
            Assert.That(ObjectTable.NextAfter(int.MaxValue - 1), Is.EqualTo(1u));
            Assert.That(ObjectTable.NextAfter(1), Is.EqualTo(2u));
        });
    }

    private static MapSpec WithBtf(MapType type, uint keySize, uint valueSize, uint keyType, uint valueType, uint maxEntries = 4) => new()
    {
        Type = type, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries, Btf = s_btf, BtfKeyTypeId = keyType,
        BtfValueTypeId = valueType, Flags = type == MapType.SkStorage ? MapFlags.NoPrealloc : MapFlags.None,
    };

    [TestCase(MapType.Hash, 4u, 16u, 0u, 3u, 4u, Errno.EINVAL, TestName = "MapCheckBtf_HashWithoutKeyType_IsEinval")]
    [TestCase(MapType.Hash, 4u, 16u, 6u, 3u, 4u, Errno.None, TestName = "MapCheckBtf_HashWithTypedefKey_IsAccepted")]
    [TestCase(MapType.Array, 4u, 16u, 0u, 3u, 4u, Errno.EINVAL, TestName = "MapCheckBtf_ArrayWithoutKeyType_IsEinval")]
    [TestCase(MapType.Array, 4u, 8u, 0u, 5u, 1u, Errno.None, TestName = "MapCheckBtf_OneElementDatasecArrayWithoutKeyType_IsAccepted")]
    [TestCase(MapType.Array, 4u, 8u, 0u, 5u, 2u, Errno.EINVAL, TestName = "MapCheckBtf_TwoElementDatasecArrayWithoutKeyType_IsEinval")]
    [TestCase(MapType.PercpuArray, 4u, 8u, 0u, 5u, 1u, Errno.EINVAL, TestName = "MapCheckBtf_PercpuDatasecArrayWithoutKeyType_IsEinval")]
    [TestCase(MapType.Array, 4u, 16u, 6u, 3u, 4u, Errno.None, TestName = "MapCheckBtf_ArrayWithU32Key_IsAccepted")]
    [TestCase(MapType.Queue, 0u, 16u, 0u, 3u, 4u, Errno.EINVAL, TestName = "MapCheckBtf_QueueWithBtf_IsEinval")]
    [TestCase(MapType.DevMap, 4u, 4u, 1u, 1u, 4u, Errno.ENOTSUPP, TestName = "MapCheckBtf_DevmapWithBtf_IsEnotsupp")]
    [TestCase(MapType.SkStorage, 4u, 16u, 1u, 3u, 0u, Errno.None, TestName = "MapCheckBtf_SkStorageWithU32Key_IsAccepted")]
    public void MapCheckBtf_FollowsTheTypesOwnCheck(MapType type, uint keySize, uint valueSize, uint keyType, uint valueType, uint maxEntries, Errno expected)
    {
        Assert.That(CreateErrno(WithBtf(type, keySize, valueSize, keyType, valueType, maxEntries)), Is.EqualTo(expected));
    }

    [Test]
    public void MapCheckBtf_ArrayWithA32BitKeyOfAnotherKind_IsEinval()
    {
        var btf = new BtfSpec([new BtfFloat("float", 4), new BtfInt("unsigned long long", 8, BtfIntEncoding.None, 0, 64)]);
        var spec = new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 4, Btf = btf, BtfKeyTypeId = 1, BtfValueTypeId = 2 };
        Assert.That(CreateErrno(spec), Is.EqualTo(Errno.EINVAL), "array_map_check_btf wants a BTF_KIND_INT key");
    }

    [Test]
    public void ArrayOfMapsWithBtf_IsEnotsupp()
    {
        var bpf = NewSystem();
        int template = Create(bpf, MapType.Array, keySize: 4);
        var spec = WithBtf(MapType.ArrayOfMaps, 4, 4, 1, 1) with { InnerMapFd = template };
        Assert.That(CreateErrno(spec, bpf), Is.EqualTo(Errno.ENOTSUPP));
        Assert.That(CreateErrno(spec with { Btf = null, BtfKeyTypeId = 0, BtfValueTypeId = 0 }, bpf), Is.EqualTo(Errno.None));
    }

    [Test]
    public void SkStorageWithoutBtf_IsEinval()
    {
        // bpf_local_storage_map_alloc_check: "Enforce BTF for userspace sk dumping".
        var spec = new MapSpec { Type = MapType.SkStorage, KeySize = 4, ValueSize = 16, Flags = MapFlags.NoPrealloc };
        Assert.That(CreateErrno(spec), Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void DevmapAndSkStorage_CanBeInnerMapTemplates()
    {
        // Both have map_meta_equal = bpf_map_meta_equal (devmap.c, bpf_sk_storage.c); struct_ops has none.
        var bpf = NewSystem();
        int dev = Create(bpf, MapType.DevMap, keySize: 4, valueSize: 4);
        bpf.MapCreate(WithBtf(MapType.SkStorage, 4, 16, 1, 3, 0), out int sk).ThrowIfFailed();
        foreach (int template in new[] { dev, sk })
        {
            var r = bpf.MapCreate(new MapSpec { Type = MapType.HashOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 2, InnerMapFd = template }, out _);
            Assert.That(r.IsOk, r.Reason);
        }
    }
}
