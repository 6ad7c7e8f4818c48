using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>Update flags, fullness, deletion and iteration of BPF_MAP_TYPE_HASH (kernel/bpf/hashtab.c).</summary>
[Category("Core")]
public sealed class HashMapTests
{
    private BpfSystem _bpf = null!;
    private int _fd;

    [SetUp]
    public void SetUp()
    {
        _bpf = NewSystem();
        _fd = Create(_bpf, MapType.Hash, maxEntries: 4);
    }

    [Test]
    public void Update_NoExistOnExistingKey_EEXIST()
    {
        Assert.That(_bpf.MapUpdateElem(_fd, U64(1), U64(10), UpdateFlags.NoExist).IsOk);
        var r = _bpf.MapUpdateElem(_fd, U64(1), U64(11), UpdateFlags.NoExist);
        Assert.That(r.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(r.Reason, Is.EqualTo("BPF_MAP_UPDATE_ELEM: EEXIST (17): key already exists and flags is BPF_NOEXIST"));
        var v = new byte[8];
        _bpf.MapLookupElem(_fd, U64(1), v).ThrowIfFailed();
        Assert.That(ReadU64(v), Is.EqualTo(10), "a failed update changes nothing");
    }

    [Test]
    public void Update_ExistOnMissingKey_ENOENT() =>
        Assert.That(_bpf.MapUpdateElem(_fd, U64(1), U64(10), UpdateFlags.Exist).Errno, Is.EqualTo(Errno.ENOENT));

    [Test]
    public void Update_ExistOnExistingKey_Replaces()
    {
        _bpf.MapUpdateElem(_fd, U64(1), U64(10)).ThrowIfFailed();
        _bpf.MapUpdateElem(_fd, U64(1), U64(20), UpdateFlags.Exist).ThrowIfFailed();
        var v = new byte[8];
        _bpf.MapLookupElem(_fd, U64(1), v).ThrowIfFailed();
        Assert.That(ReadU64(v), Is.EqualTo(20));
    }

    [TestCase(3UL)]
    [TestCase(8UL)]
    [TestCase(0x100UL)]
    public void Update_UnknownFlags_EINVAL(ulong flags) =>
        Assert.That(_bpf.MapUpdateElem(_fd, U64(1), U64(1), flags).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void Update_FLockWithoutSpinLock_EINVAL() =>
        Assert.That(_bpf.MapUpdateElem(_fd, U64(1), U64(1), UpdateFlags.FLock).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void Update_NewKeyWhenFull_E2BIG_ReplacingExistingKeySucceeds()
    {
        for (ulong k = 0; k < 4; k++)
        {
            _bpf.MapUpdateElem(_fd, U64(k), U64(k)).ThrowIfFailed();
        }
        var r = _bpf.MapUpdateElem(_fd, U64(99), U64(1));
        Assert.That(r.Errno, Is.EqualTo(Errno.E2BIG));
        Assert.That(r.Reason, Does.Contain("full"));
        Assert.That(_bpf.MapUpdateElem(_fd, U64(2), U64(200)).IsOk, "replacing an existing key needs no new element");
        Assert.That(Live(_bpf, _fd).Count, Is.EqualTo(4));
    }

    [Test]
    public void DeleteAndLookup_MissingKey_ENOENT()
    {
        Assert.That(_bpf.MapDeleteElem(_fd, U64(5)).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(_bpf.MapLookupElem(_fd, U64(5), new byte[8]).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void Delete_FreesRoomForANewKey()
    {
        for (ulong k = 0; k < 4; k++)
        {
            _bpf.MapUpdateElem(_fd, U64(k), U64(k)).ThrowIfFailed();
        }
        _bpf.MapDeleteElem(_fd, U64(1)).ThrowIfFailed();
        Assert.That(_bpf.MapUpdateElem(_fd, U64(50), U64(5)).IsOk);
    }

    [Test]
    public void WrongKeyOrValueSize_EINVAL_NamingBothSizes()
    {
        var r = _bpf.MapUpdateElem(_fd, new byte[4], U64(1));
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("key is 4 bytes").And.Contain("key_size 8"));
        Assert.That(_bpf.MapUpdateElem(_fd, U64(1), new byte[9]).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapLookupElem(_fd, U64(1), new byte[4]).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapDeleteElem(_fd, new byte[3]).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapGetNextKey(_fd, new byte[3], new byte[8]).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapGetNextKey(_fd, default, new byte[3]).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Lookup_UnknownFlags_EINVAL_CheckedBeforeTheFd()
    {
        Assert.That(_bpf.MapLookupElem(1234, U64(1), new byte[8], flags: 2).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(_bpf.MapLookupElem(_fd, U64(1), new byte[8], flags: UpdateFlags.FLock).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void GetNextKey_NullOrMissingKeyYieldsFirst_AfterLastENOENT()
    {
        Assert.That(_bpf.MapGetNextKey(_fd, default, new byte[8]).Errno, Is.EqualTo(Errno.ENOENT), "empty map");
        foreach (ulong k in new ulong[] { 7, 3, 11 })
        {
            _bpf.MapUpdateElem(_fd, U64(k), U64(k)).ThrowIfFailed();
        }
        var first = new byte[8];
        var fromMissing = new byte[8];
        _bpf.MapGetNextKey(_fd, default, first).ThrowIfFailed();
        _bpf.MapGetNextKey(_fd, U64(12345), fromMissing).ThrowIfFailed();
        Assert.That(fromMissing, Is.EqualTo(first));

        var seen = new List<ulong> { ReadU64(first) };
        var key = first;
        var next = new byte[8];
        BpfResult r;
        while ((r = _bpf.MapGetNextKey(_fd, key, next)).IsOk)
        {
            seen.Add(ReadU64(next));
            key = next.ToArray();
        }
        Assert.That(r.Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(seen, Is.EquivalentTo(new ulong[] { 7, 3, 11 }));
    }

    [Test]
    public void LookupAndDelete_ReturnsValueAndRemovesKey()
    {
        _bpf.MapUpdateElem(_fd, U64(4), U64(44)).ThrowIfFailed();
        var v = new byte[8];
        Assert.That(_bpf.MapLookupAndDeleteElem(_fd, U64(4), v).IsOk);
        Assert.That(ReadU64(v), Is.EqualTo(44));
        Assert.That(_bpf.MapLookupElem(_fd, U64(4), v).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(_bpf.MapLookupAndDeleteElem(_fd, U64(4), v).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void ProgramHelpers_FollowTheSameFlagRules()
    {
        var map = Live(_bpf, _fd);
        using (_bpf.EnterProgram(0))
        {
            Assert.That(map.Update(U64(1), U64(1), UpdateFlags.Exist), Is.EqualTo(Errno.ENOENT));
            Assert.That(map.Update(U64(1), U64(1), UpdateFlags.NoExist), Is.EqualTo(Errno.None));
            Assert.That(map.Update(U64(1), U64(2), UpdateFlags.NoExist), Is.EqualTo(Errno.EEXIST));
            var value = map.Lookup(U64(1));
            value[0] = 77; // a program writes through the pointer it got
            Assert.That(map.Delete(U64(9)), Is.EqualTo(Errno.ENOENT));
        }
        var v = new byte[8];
        _bpf.MapLookupElem(_fd, U64(1), v).ThrowIfFailed();
        Assert.That(v[0], Is.EqualTo(77));
    }

    [Test]
    public void ProgramHelper_OutsideAProgram_Throws()
    {
        var map = Live(_bpf, _fd);
        Assert.Throws<InvalidOperationException>(() => map.Lookup(U64(1)));
    }

    [Test]
    public void ProgramHelper_OnFreedMap_ReportsUseAfterFree()
    {
        var map = Live(_bpf, _fd);
        _bpf.Close(_fd);
        using var _ = _bpf.EnterProgram(0);
        var e = Assert.Throws<InvalidOperationException>(() => map.Lookup(U64(1)));
        Assert.That(e!.Message, Does.Contain("use-after-free"));
    }
}
