using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK rules from kernel/bpf/queue_stack_maps.c (alloc check, push/pop/peek)
/// and kernel/bpf/syscall.c (UPDATE → push, LOOKUP → peek, LOOKUP_AND_DELETE → pop, key must be NULL).
/// </summary>
[Category("Core")]
public sealed class QueueStackMapTests
{
    private static readonly byte[] NoKey = [];

    private BpfSystem _bpf = null!;

    [SetUp]
    public void SetUp() => _bpf = NewSystem();

    private int New(MapType type, uint max = 3, uint valueSize = 4, MapFlags flags = MapFlags.None) =>
        Create(_bpf, type, keySize: 0, valueSize: valueSize, maxEntries: max, flags: flags);

    private BpfResult CreateSpec(MapType type, uint key, uint value, uint max, MapFlags flags = MapFlags.None) =>
        _bpf.MapCreate(new MapSpec { Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = flags }, out _);

    private BpfResult Push(int fd, uint v, ulong flags = UpdateFlags.Any) => _bpf.MapUpdateElem(fd, NoKey, U32(v), flags);

    private uint Pop(int fd)
    {
        var v = new byte[4];
        _bpf.MapLookupAndDeleteElem(fd, NoKey, v).ThrowIfFailed();
        return ReadU32(v);
    }

    private uint Peek(int fd)
    {
        var v = new byte[4];
        _bpf.MapLookupElem(fd, NoKey, v).ThrowIfFailed();
        return ReadU32(v);
    }

    // ---- BPF_MAP_CREATE: queue_stack_map_alloc_check ----

    private static IEnumerable<TestCaseData> BadSpecs()
    {
        foreach (var type in new[] { MapType.Queue, MapType.Stack })
        {
            yield return new TestCaseData(type, 4u, 4u, 4u, MapFlags.None, Errno.EINVAL).SetName($"Create_{type}_KeySizeNot0_EINVAL");
            yield return new TestCaseData(type, 0u, 0u, 4u, MapFlags.None, Errno.EINVAL).SetName($"Create_{type}_ValueSize0_EINVAL");
            yield return new TestCaseData(type, 0u, 4u, 0u, MapFlags.None, Errno.EINVAL).SetName($"Create_{type}_MaxEntries0_EINVAL");
            yield return new TestCaseData(type, 0u, 4u, 4u, MapFlags.NoPrealloc, Errno.EINVAL).SetName($"Create_{type}_NoPrealloc_EINVAL");
            yield return new TestCaseData(type, 0u, 4u, 4u, MapFlags.Mmapable, Errno.EINVAL).SetName($"Create_{type}_Mmapable_EINVAL");
            yield return new TestCaseData(type, 0u, 4u, 4u, MapFlags.InnerMap, Errno.EINVAL).SetName($"Create_{type}_InnerMapFlag_EINVAL");
            yield return new TestCaseData(type, 0u, 4u, 4u, MapFlags.RdOnlyProg | MapFlags.WrOnlyProg, Errno.EINVAL)
                .SetName($"Create_{type}_RdOnlyProgAndWrOnlyProg_EINVAL");
            yield return new TestCaseData(type, 0u, 4u, 4u, MapFlags.RdOnly | MapFlags.WrOnly, Errno.EINVAL).SetName($"Create_{type}_RdOnlyAndWrOnly_EINVAL");
            yield return new TestCaseData(type, 0u, (1u << 22) + 1, 1u, MapFlags.None, Errno.E2BIG).SetName($"Create_{type}_ValueOverKmallocMax_E2BIG");
            // max_entries >= U32_MAX / value_size.
            yield return new TestCaseData(type, 0u, 4u, uint.MaxValue / 4, MapFlags.None, Errno.E2BIG).SetName($"Create_{type}_MaxEntriesTimesValueAtU32Max_E2BIG");
        }
    }

    [TestCaseSource(nameof(BadSpecs))]
    public void Create_Rejected(MapType type, uint key, uint value, uint max, MapFlags flags, Errno expected) =>
        Assert.That(CreateSpec(type, key, value, max, flags).Errno, Is.EqualTo(expected));

    [TestCase(MapType.Queue, MapFlags.NumaNode)]
    [TestCase(MapType.Stack, MapFlags.RdOnlyProg)]
    [TestCase(MapType.Queue, MapFlags.WrOnlyProg)]
    [TestCase(MapType.Stack, MapFlags.RdOnly)]
    public void Create_AllowedFlags(MapType type, MapFlags flags) =>
        Assert.That(CreateSpec(type, 0, 8, 16, flags).IsOk);

    [Test]
    public void Create_Info_NamesType()
    {
        int q = New(MapType.Queue), s = New(MapType.Stack);
        _bpf.ObjGetInfoByFd(q, out BpfMapInfo qi).ThrowIfFailed();
        _bpf.ObjGetInfoByFd(s, out BpfMapInfo si).ThrowIfFailed();
        Assert.That((qi.Type, qi.KeySize, si.Type), Is.EqualTo(("queue", 0u, "stack")));
        Assert.That(MapType.Queue.KernelName(), Is.EqualTo("BPF_MAP_TYPE_QUEUE"));
        Assert.That((uint)MapType.Stack, Is.EqualTo(23u));
    }

    // ---- order ----

    [Test]
    public void Queue_PopsInPushOrder()
    {
        int fd = New(MapType.Queue);
        Push(fd, 1).ThrowIfFailed();
        Push(fd, 2).ThrowIfFailed();
        Push(fd, 3).ThrowIfFailed();
        Assert.That(Peek(fd), Is.EqualTo(1u), "peek shows the oldest");
        Assert.That(new[] { Pop(fd), Pop(fd), Pop(fd) }, Is.EqualTo(new uint[] { 1, 2, 3 }));
    }

    [Test]
    public void Stack_PopsNewestFirst()
    {
        int fd = New(MapType.Stack);
        Push(fd, 1).ThrowIfFailed();
        Push(fd, 2).ThrowIfFailed();
        Push(fd, 3).ThrowIfFailed();
        Assert.That(Peek(fd), Is.EqualTo(3u), "peek shows the newest");
        Assert.That(new[] { Pop(fd), Pop(fd), Pop(fd) }, Is.EqualTo(new uint[] { 3, 2, 1 }));
    }

    [TestCase(MapType.Queue)]
    [TestCase(MapType.Stack)]
    public void Full_PushWithoutExist_E2BIG(MapType type)
    {
        int fd = New(type, max: 2);
        Push(fd, 1).ThrowIfFailed();
        Push(fd, 2).ThrowIfFailed();
        Assert.That(Push(fd, 3).Errno, Is.EqualTo(Errno.E2BIG));
        Assert.That(Live(_bpf, fd).Count, Is.EqualTo(2));
    }

    [Test]
    public void Queue_FullPushWithExist_DropsOldest()
    {
        int fd = New(MapType.Queue, max: 2);
        Push(fd, 1).ThrowIfFailed();
        Push(fd, 2).ThrowIfFailed();
        Assert.That(Push(fd, 3, UpdateFlags.Exist).IsOk);
        Assert.That(new[] { Pop(fd), Pop(fd) }, Is.EqualTo(new uint[] { 2, 3 }));
    }

    [Test]
    public void Stack_FullPushWithExist_DropsBottom()
    {
        // queue_stack_map_push_elem advances the tail for both types: a stack loses its oldest (bottom) element.
        int fd = New(MapType.Stack, max: 2);
        Push(fd, 1).ThrowIfFailed();
        Push(fd, 2).ThrowIfFailed();
        Assert.That(Push(fd, 3, UpdateFlags.Exist).IsOk);
        Assert.That(new[] { Pop(fd), Pop(fd) }, Is.EqualTo(new uint[] { 3, 2 }));
    }

    [TestCase(MapType.Queue)]
    [TestCase(MapType.Stack)]
    public void PushWithExist_NotFull_JustPushes(MapType type)
    {
        int fd = New(type);
        Assert.That(Push(fd, 7, UpdateFlags.Exist).IsOk);
        Assert.That(Pop(fd), Is.EqualTo(7u));
    }

    [TestCase(MapType.Queue, UpdateFlags.NoExist)]
    [TestCase(MapType.Stack, UpdateFlags.NoExist)]
    [TestCase(MapType.Queue, 3ul)]
    [TestCase(MapType.Queue, UpdateFlags.FLock)]
    [TestCase(MapType.Stack, 8ul)]
    public void Push_BadFlags_EINVAL(MapType type, ulong flags) =>
        Assert.That(Push(New(type), 1, flags).Errno, Is.EqualTo(Errno.EINVAL));

    // ---- empty ----

    [TestCase(MapType.Queue)]
    [TestCase(MapType.Stack)]
    public void Empty_PeekAndPop_ENOENT(MapType type)
    {
        int fd = New(type);
        var v = new byte[4];
        Assert.That(_bpf.MapLookupElem(fd, NoKey, v).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(_bpf.MapLookupAndDeleteElem(fd, NoKey, v).Errno, Is.EqualTo(Errno.ENOENT));
        Push(fd, 5).ThrowIfFailed();
        Assert.That(Pop(fd), Is.EqualTo(5u));
        Assert.That(_bpf.MapLookupAndDeleteElem(fd, NoKey, v).Errno, Is.EqualTo(Errno.ENOENT), "empty again");
    }

    // ---- the other commands ----

    [TestCase(MapType.Queue)]
    [TestCase(MapType.Stack)]
    public void KeyGiven_EINVAL(MapType type)
    {
        // __bpf_copy_key: key_size 0 with a non-NULL key pointer.
        int fd = New(type);
        Push(fd, 1).ThrowIfFailed();
        var v = new byte[4];
        Assert.That(_bpf.MapLookupElem(fd, U32(0), v).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapUpdateElem(fd, U32(0), v).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapLookupAndDeleteElem(fd, U32(0), v).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapDeleteElem(fd, U32(0)).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Live(_bpf, fd).Count, Is.EqualTo(1), "nothing changed");
    }

    [TestCase(MapType.Queue)]
    [TestCase(MapType.Stack)]
    public void DeleteAndGetNextKey_EINVAL(MapType type)
    {
        int fd = New(type);
        Push(fd, 1).ThrowIfFailed();
        Assert.That(_bpf.MapDeleteElem(fd, NoKey).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapGetNextKey(fd, NoKey, []).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Live(_bpf, fd).Count, Is.EqualTo(1));
    }

    [TestCase(MapType.Queue, UpdateFlags.FLock)]
    [TestCase(MapType.Stack, 1ul)]
    public void LookupAndDelete_Flags_EINVAL(MapType type, ulong flags)
    {
        int fd = New(type);
        Push(fd, 1).ThrowIfFailed();
        Assert.That(_bpf.MapLookupAndDeleteElem(fd, NoKey, new byte[4], flags).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Live(_bpf, fd).Count, Is.EqualTo(1));
    }

    [Test]
    public void Lookup_FLock_EINVAL() =>
        Assert.That(_bpf.MapLookupElem(New(MapType.Queue), NoKey, new byte[4], UpdateFlags.FLock).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void WrongValueBuffer_EINVAL() =>
        Assert.That(_bpf.MapUpdateElem(New(MapType.Queue), NoKey, new byte[8]).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void LookupAndDelete_OnArray_ENOTSUPP()
    {
        int fd = Create(_bpf, MapType.Array, keySize: 4, valueSize: 4, maxEntries: 2);
        Assert.That(_bpf.MapLookupAndDeleteElem(fd, U32(0), new byte[4]).Errno, Is.EqualTo(Errno.ENOTSUPP));
    }

    [Test]
    public void RdOnlyFd_PushEPERM_PeekAllowed_PopEPERM()
    {
        int fd = New(MapType.Queue, flags: MapFlags.RdOnly);
        var v = new byte[4];
        Assert.That(Push(fd, 1).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(_bpf.MapLookupElem(fd, NoKey, v).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(_bpf.MapLookupAndDeleteElem(fd, NoKey, v).Errno, Is.EqualTo(Errno.EPERM), "pop needs read and write");
    }

    // ---- program side ----

    [Test]
    public void Program_PushPopPeek()
    {
        int fd = New(MapType.Stack, max: 2);
        var map = (QueueStackMapBase)Live(_bpf, fd);
        var v = new byte[4];
        using (_bpf.EnterProgram(1))
        {
            Assert.That(map.Pop(v), Is.EqualTo(Errno.ENOENT));
            Assert.That(map.Push(U32(10)), Is.EqualTo(Errno.None));
            Assert.That(map.Push(U32(11)), Is.EqualTo(Errno.None));
            Assert.That(map.Push(U32(12)), Is.EqualTo(Errno.E2BIG));
            Assert.That(map.Push(U32(12), UpdateFlags.NoExist), Is.EqualTo(Errno.EINVAL));
            Assert.That(map.Peek(v), Is.EqualTo(Errno.None));
            Assert.That(ReadU32(v), Is.EqualTo(11u));
            Assert.That(map.Push(U32(12), UpdateFlags.Exist), Is.EqualTo(Errno.None));
            Assert.Throws<InvalidOperationException>(() => map.Lookup([]), "the verifier refuses lookup on a stack");
        }
        Assert.That(new[] { Pop(fd), Pop(fd) }, Is.EqualTo(new uint[] { 12, 11 }));
        Assert.Throws<InvalidOperationException>(() => map.Push(U32(1)), "outside a program");
    }

    [Test]
    public void Program_Pop_Empty_ZeroesValue()
    {
        var map = (QueueStackMapBase)Live(_bpf, New(MapType.Queue));
        var v = U32(0xdeadbeef);
        using var _ = _bpf.EnterProgram(0);
        Assert.That(map.Pop(v), Is.EqualTo(Errno.ENOENT));
        Assert.That(v, Is.All.EqualTo(0), "__queue_map_get memsets the value on ENOENT");
    }

    // ---- map-in-map ----

    [TestCase(MapType.ArrayOfMaps, 4u)]
    [TestCase(MapType.HashOfMaps, 8u)]
    public void OuterMap_OfQueues(MapType outerType, uint outerKey)
    {
        // Queue maps have map_meta_equal = bpf_map_meta_equal, so they may be inner maps (bpf_map_meta_alloc).
        int template = New(MapType.Queue, max: 4);
        int outer = Create(_bpf, outerType, keySize: outerKey, valueSize: 4, maxEntries: 4, innerFd: template);
        int q0 = New(MapType.Queue, max: 4);
        int q1 = New(MapType.Queue, max: 64); // max_entries is not compared
        int stack = New(MapType.Stack, max: 4);
        int wide = New(MapType.Queue, max: 4, valueSize: 8);
        byte[] Key(uint k) => outerKey == 4 ? U32(k) : U64(k);
        Assert.That(_bpf.MapUpdateElem(outer, Key(0), U32((uint)q0)).IsOk);
        Assert.That(_bpf.MapUpdateElem(outer, Key(1), U32((uint)q1)).IsOk);
        Assert.That(_bpf.MapUpdateElem(outer, Key(2), U32((uint)stack)).Errno, Is.EqualTo(Errno.EINVAL), "another type");
        Assert.That(_bpf.MapUpdateElem(outer, Key(2), U32((uint)wide)).Errno, Is.EqualTo(Errno.EINVAL), "another value_size");

        var map = Live(_bpf, outer);
        using (_bpf.EnterProgram(0))
        {
            var inner = (QueueMap)map.LookupInner(Key(1))!;
            Assert.That(inner.Push(U32(41)), Is.EqualTo(Errno.None));
            Assert.That(inner.Push(U32(42)), Is.EqualTo(Errno.None));
        }
        Assert.That(new[] { Pop(q1), Pop(q1) }, Is.EqualTo(new uint[] { 41, 42 }));
        Assert.That(Live(_bpf, q0).Count, Is.Zero);
    }
}
