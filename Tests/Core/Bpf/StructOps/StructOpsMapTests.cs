using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using static BpfSim.Tests.Core.Bpf.StructOps.TestOps;

namespace BpfSim.Tests.Core.Bpf.StructOps;

/// <summary>The struct_ops map state machine and errors of kernel/bpf/bpf_struct_ops.c, on a test-only type.</summary>
[Category("StructOps")]
public sealed class StructOpsMapTests
{
    private BpfSystem _bpf = null!;
    private TestOpsType _type = null!;

    [SetUp]
    public void SetUp() => (_bpf, _type) = NewSystem();

    private StructOpsMap Map(int fd) => (StructOpsMap)TestMaps.Live(_bpf, fd);

    private (uint RefCnt, StructOpsState State, byte[] Value) Lookup(int fd)
    {
        var value = new byte[_type.ValueSize];
        _bpf.MapLookupElem(fd, Key0, value).ThrowIfFailed();
        return (BinaryPrimitives.ReadUInt32LittleEndian(value), (StructOpsState)BinaryPrimitives.ReadUInt32LittleEndian(value.AsSpan(4)), value);
    }

    [TestCase(8u, 1u, MapFlags.None, "test_ops", Errno.EINVAL)]
    [TestCase(4u, 2u, MapFlags.None, "test_ops", Errno.EINVAL)]
    [TestCase(4u, 1u, MapFlags.NoPrealloc, "test_ops", Errno.EINVAL)]
    [TestCase(4u, 1u, MapFlags.None, "no_such_ops", Errno.ENOTSUPP)]
    public void Create_BadAttributes_KernelErrno(uint keySize, uint maxEntries, MapFlags flags, string type, Errno expected)
    {
        var r = _bpf.MapCreate(new MapSpec
        {
            Type = MapType.StructOps, KeySize = keySize, ValueSize = (uint)_type.ValueSize, MaxEntries = maxEntries, Flags = flags, StructOpsType = type,
        }, out _);
        Assert.That(r.Errno, Is.EqualTo(expected), r.Reason);
    }

    [Test]
    public void Create_WrongValueSize_EINVAL() =>
        Assert.That(_bpf.MapCreate(new MapSpec { Type = MapType.StructOps, KeySize = 4, ValueSize = 100, MaxEntries = 1, StructOpsType = "test_ops" }, out _).Errno,
            Is.EqualTo(Errno.EINVAL));

    [Test]
    public void Layout_DataAt64_NaturalAlignment()
    {
        Assert.That(_type.Members.Select(m => (m.Name, m.Offset)), Is.EqualTo(new[]
        {
            ("init", 0), ("run", 8), ("release", 16), ("unsupported", 24), ("name", 32), ("flags", 48), ("owner", 56),
        }));
        Assert.That(_type.ValueSize, Is.EqualTo(64 + 64));
    }

    /// <summary>A type whose data (16 bytes) does not fill the value's last cacheline.</summary>
    private sealed class ShortOpsType() : StructOpsType("short_ops",
        [StructOpsMember.Function("init", typeof(TestInitFn), "int (void)", mandatory: true), StructOpsMember.Data("flags", StructOpsMemberKind.U32)])
    {
        public override BpfResult Register(StructOpsKernelData data, StructOpsLink? link) => BpfResult.Ok;

        public override void Unregister(StructOpsKernelData data, StructOpsLink? link)
        {
        }
    }

    [Test]
    public void ValueSize_IsAWholeNumberOfCachelines_AndItsTailMustBeZero()
    {
        // register_bpf_struct_ops (include/linux/bpf.h): data is ____cacheline_aligned_in_smp, so sizeof the value rounds
        // up to 64; check_zero_holes on the value type refuses a non-zero byte after data.
        var type = new ShortOpsType();
        _bpf.RegisterStructOpsType(type);
        Assert.That((type.DataSize, type.ValueSize), Is.EqualTo((16, 128)));
        int fd = CreateMap(_bpf, type: "short_ops");
        int init = LoadProgram(_bpf, "init", (TestInitFn)(() => 0), "short_ops");
        var value = new byte[type.ValueSize];
        BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(StructOpsType.DataOffset), (ulong)init);
        value[StructOpsType.DataOffset + 16 + 20] = 1;
        var r = _bpf.MapUpdateElem(fd, Key0, value);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("after data"));
        value[StructOpsType.DataOffset + 16 + 20] = 0;
        Assert.That(_bpf.MapUpdateElem(fd, Key0, value).IsOk);
    }

    [Test]
    public void Create_IsInit_LookupAllZero()
    {
        int fd = CreateMap(_bpf);
        var (refcnt, state, value) = Lookup(fd);
        Assert.That(Map(fd).State, Is.EqualTo(StructOpsState.Init));
        Assert.That((refcnt, state), Is.EqualTo((0u, StructOpsState.Init)));
        Assert.That(value, Is.All.EqualTo(0));
    }

    [Test]
    public void Update_Key0_RegistersAndMovesToInUse()
    {
        int fd = CreateMap(_bpf);
        Assert.That(_bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).IsOk);
        Assert.That(Map(fd).State, Is.EqualTo(StructOpsState.InUse));
        Assert.That(_type.Subsystem.Current.Keys, Is.EqualTo(new[] { "alpha" }));
        var (refcnt, state, _) = Lookup(fd);
        Assert.That((refcnt, state), Is.EqualTo((1u, StructOpsState.InUse)), "refcnt counts the registration");
    }

    [Test]
    public void Lookup_ShowsProgramIdsInFunctionSlots()
    {
        int fd = CreateMap(_bpf);
        int init = LoadProgram(_bpf, "init", (TestInitFn)(() => 0));
        _bpf.MapUpdateElem(fd, Key0, Value(_type, "alpha", 1, ("init", init))).ThrowIfFailed();
        var (_, _, value) = Lookup(fd);
        _bpf.ObjGetInfoByFd(init, out BpfSim.Core.Bpf.Programs.BpfProgInfo info).ThrowIfFailed();
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(64)), Is.EqualTo(info.Id));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(64 + 8)), Is.Zero, "empty slot");
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(value.AsSpan(64 + 48)), Is.EqualTo(1), "flags as supplied");
    }

    [Test]
    public void Update_Twice_EBUSY()
    {
        int fd = CreateMap(_bpf);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).ThrowIfFailed();
        Assert.That(_bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "beta")).Errno, Is.EqualTo(Errno.EBUSY));
    }

    [Test]
    public void Update_FlagsNonZero_EINVAL_KeyNonZero_E2BIG()
    {
        int fd = CreateMap(_bpf);
        var value = StandardValue(_bpf, "alpha");
        Assert.That(_bpf.MapUpdateElem(fd, Key0, value, UpdateFlags.NoExist).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapUpdateElem(fd, TestMaps.U32(1), value).Errno, Is.EqualTo(Errno.E2BIG));
        Assert.That(Map(fd).State, Is.EqualTo(StructOpsState.Init));
    }

    [Test]
    public void Update_CommonFieldsNotZero_EINVAL()
    {
        int fd = CreateMap(_bpf);
        var value = StandardValue(_bpf, "alpha");
        value[4] = 1; // state
        Assert.That(_bpf.MapUpdateElem(fd, Key0, value).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Update_BadProgramFd_EBADF_ProgramForOtherMember_EINVAL_MapFd_EINVAL()
    {
        int fd = CreateMap(_bpf);
        Assert.That(_bpf.MapUpdateElem(fd, Key0, Value(_type, "a", 0, ("init", 99))).Errno, Is.EqualTo(Errno.EBADF));
        int run = LoadProgram(_bpf, "run", (TestRunFn)(x => x));
        var r = _bpf.MapUpdateElem(fd, Key0, Value(_type, "a", 0, ("init", run)));
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("implements test_ops.run, not test_ops.init"));
        Assert.That(_bpf.MapUpdateElem(fd, Key0, Value(_type, "a", 0, ("init", fd))).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Update_MandatoryMemberMissing_EINVAL()
    {
        int fd = CreateMap(_bpf);
        int run = LoadProgram(_bpf, "run", (TestRunFn)(x => x));
        var r = _bpf.MapUpdateElem(fd, Key0, Value(_type, "a", 0, ("run", run)));
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("mandatory member init"));
    }

    [Test]
    public void Update_InitMemberRejects_EINVAL_NonZeroPointer_EINVAL()
    {
        int fd = CreateMap(_bpf);
        var value = StandardValue(_bpf, "a");
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(64 + 48), 2);
        Assert.That(_bpf.MapUpdateElem(fd, Key0, value).Errno, Is.EqualTo(Errno.EINVAL));
        value = StandardValue(_bpf, "a");
        value[64 + 56] = 1; // owner must be zero
        Assert.That(_bpf.MapUpdateElem(fd, Key0, value).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Update_FailureResetsToInit_AndReleasesPrograms_SoRetryWorks()
    {
        int fd = CreateMap(_bpf);
        int init = LoadProgram(_bpf, "init", (TestInitFn)(() => 0));
        var prog = (BpfSim.Core.Bpf.Programs.BpfProgram)_bpf.Objects.All(BpfObjectKind.Program).Single();
        Assert.That(_bpf.MapUpdateElem(fd, Key0, Value(_type, "reject", 0, ("init", init))).Errno, Is.EqualTo(Errno.EINVAL), "validate");
        Assert.That(prog.RefCount, Is.EqualTo(1), "the failed update dropped its program reference");
        Assert.That(Lookup(fd).State, Is.EqualTo(StructOpsState.Init));
        Assert.That(_bpf.MapUpdateElem(fd, Key0, Value(_type, "fine", 0, ("init", init))).IsOk);
    }

    [Test]
    public void Update_RegisterFails_DuplicateName_EEXIST_MapStaysInit()
    {
        int first = CreateMap(_bpf);
        int second = CreateMap(_bpf);
        _bpf.MapUpdateElem(first, Key0, StandardValue(_bpf, "same")).ThrowIfFailed();
        Assert.That(_bpf.MapUpdateElem(second, Key0, StandardValue(_bpf, "same")).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(Map(second).State, Is.EqualTo(StructOpsState.Init));
    }

    [Test]
    public void Delete_InInit_ENOENT_InUse_ToBeFree_Again_EINPROGRESS()
    {
        int fd = CreateMap(_bpf);
        Assert.That(_bpf.MapDeleteElem(fd, Key0).Errno, Is.EqualTo(Errno.ENOENT));
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).ThrowIfFailed();
        Assert.That(_bpf.MapDeleteElem(fd, Key0).IsOk);
        Assert.That(Map(fd).State, Is.EqualTo(StructOpsState.ToBeFree));
        Assert.That(_type.Subsystem.Current, Is.Empty, "unregistered");
        Assert.That(_bpf.MapDeleteElem(fd, Key0).Errno, Is.EqualTo(Errno.EINPROGRESS));
        Assert.That(_bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).Errno, Is.EqualTo(Errno.EBUSY), "never registered again");
    }

    [Test]
    public void Delete_LinkModeMap_EOPNOTSUPP()
    {
        int fd = CreateMap(_bpf, link: true);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).ThrowIfFailed();
        Assert.That(_bpf.MapDeleteElem(fd, Key0).Errno, Is.EqualTo(Errno.EOPNOTSUPP));
    }

    [Test]
    public void Lookup_KeyNotZero_ENOENT() =>
        Assert.That(_bpf.MapLookupElem(CreateMap(_bpf), TestMaps.U32(3), new byte[_type.ValueSize]).Errno, Is.EqualTo(Errno.ENOENT));

    [TestCase(null, 0u, Errno.None)]
    [TestCase(5u, 0u, Errno.None)]
    [TestCase(0u, 0u, Errno.ENOENT)]
    public void GetNextKey_NullOrOtherKeyGivesZero_ZeroEnds(uint? key, uint next, Errno expected)
    {
        var buffer = new byte[4];
        var r = _bpf.MapGetNextKey(CreateMap(_bpf), key is null ? default : TestMaps.U32(key.Value), buffer);
        Assert.That(r.Errno, Is.EqualTo(expected));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(buffer), Is.EqualTo(next));
    }

    [Test]
    public void Users_TakeReferences_RefcntIsUsersPlusRegistration()
    {
        int fd = CreateMap(_bpf);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha", add: 10)).ThrowIfFailed();
        var users = Enumerable.Range(0, 3).Select(_ => _type.Subsystem.Adopt("alpha")!).ToList();
        Assert.That(Lookup(fd).RefCnt, Is.EqualTo(4));
        Assert.That(_type.Subsystem.Run(_bpf, users[0], 1, 5), Is.EqualTo(15));
        _type.Subsystem.Release(users[0]);
        Assert.That(Lookup(fd).RefCnt, Is.EqualTo(3));
    }

    [Test]
    public void Unregister_WithUsers_TheyKeepIt_FreedAfterLastUserAndFd()
    {
        int fd = CreateMap(_bpf);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha", add: 1)).ThrowIfFailed();
        var map = Map(fd);
        var a = _type.Subsystem.Adopt("alpha")!;
        var b = _type.Subsystem.Adopt("alpha")!;
        _bpf.MapDeleteElem(fd, Key0).ThrowIfFailed();
        Assert.That(_type.Subsystem.Adopt("alpha"), Is.Null, "new users cannot choose it");
        var (refcnt, state, _) = Lookup(fd);
        Assert.That((refcnt, state), Is.EqualTo((2u, StructOpsState.ToBeFree)));
        Assert.That(_type.Subsystem.Run(_bpf, a, 0, 1), Is.EqualTo(2), "existing users keep calling it");

        _type.Subsystem.Release(a);
        _type.Subsystem.Release(b);
        Assert.That(map.IsDead, Is.False, "the fd still holds it");
        Assert.That(_bpf.Objects.Count(BpfObjectKind.Program), Is.EqualTo(2));
        _bpf.ExitProcess(_bpf.Caller); // closes the map fd and the program fds
        Assert.That(_bpf.Objects.TryGet(BpfObjectKind.Map, map.Id, out _), Is.False, "id gone at once");
        Assert.That(map.IsFreed, Is.False, "memory waits for a grace period");
        _bpf.Simulator.RunUntil(SimTime.FromMilliseconds(20));
        Assert.That(map.IsFreed, Is.True);
        Assert.That(_bpf.Objects.Count(BpfObjectKind.Program), Is.Zero, "its programs went with it");
    }

    [Test]
    public void TryGet_FailsOnceTheMapIsDead()
    {
        int fd = CreateMap(_bpf);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).ThrowIfFailed();
        var data = Map(fd).KernelData!;
        _bpf.MapDeleteElem(fd, Key0).ThrowIfFailed();
        Assert.That(data.TryGet(), Is.True, "TOBEFREE with an fd left still pins (bpf_struct_ops_get)");
        data.Put();
        _bpf.Close(fd);
        Assert.That(data.TryGet(), Is.False);
    }

    [Test]
    public void Timeline_RecordsStatesAndRefcntInSimulatedTime()
    {
        int fd = CreateMap(_bpf);
        _bpf.Simulator.RunUntil(SimTime.FromMilliseconds(1));
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).ThrowIfFailed();
        var user = _type.Subsystem.Adopt("alpha")!;
        _bpf.Simulator.RunUntil(SimTime.FromMilliseconds(2));
        _bpf.MapDeleteElem(fd, Key0).ThrowIfFailed();
        _type.Subsystem.Release(user);
        var map = Map(fd);
        Assert.That(map.Timeline.Select(e => (e.Time.TotalMilliseconds, e.StateName, e.RefCount, e.Event)), Is.EqualTo(new[]
        {
            (0.0, "INIT", 0L, "created"),
            (1.0, "INUSE", 1L, "registered"),
            (1.0, "INUSE", 2L, "ref+"),
            // bpf_struct_ops_map_delete_elem: the state moves first, the registration's reference goes after unreg.
            (2.0, "TOBEFREE", 2L, "unregistered"),
            (2.0, "TOBEFREE", 1L, "ref-"),
            (2.0, "TOBEFREE", 0L, "ref-"),
        }));
        Assert.That(map.MaxReportedRefCount, Is.EqualTo(2));
    }

    [Test]
    public void Summary_ReportsTransitionsPeakFinalRefcntAndFreed()
    {
        int fd = CreateMap(_bpf);
        _bpf.MapUpdateElem(fd, Key0, StandardValue(_bpf, "alpha")).ThrowIfFailed();
        var users = Enumerable.Range(0, 3).Select(_ => _type.Subsystem.Adopt("alpha")!).ToList();
        _bpf.Simulator.RunUntil(SimTime.FromMilliseconds(500));
        _bpf.MapDeleteElem(fd, Key0).ThrowIfFailed();
        users.ForEach(_type.Subsystem.Release);
        _bpf.ExitProcess(_bpf.Caller);
        _bpf.Simulator.RunUntil(SimTime.FromSeconds(1));
        var summary = StructOpsSummary.From(_bpf.StructOpsHistory.Single());
        Assert.That(summary.Transitions.Select(t => (t.Seconds, t.State)), Is.EqualTo(new[] { (0.0, "INIT"), (0.0, "INUSE"), (0.5, "TOBEFREE") }));
        Assert.That((summary.RefCountMax, summary.RefCountFinal, summary.Freed), Is.EqualTo((4L, 0L, true)));
        Assert.That(summary.Type, Is.EqualTo("test_ops"));
    }
}
