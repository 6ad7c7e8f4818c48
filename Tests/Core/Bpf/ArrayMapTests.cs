using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>BPF_MAP_TYPE_ARRAY rules from kernel/bpf/arraymap.c.</summary>
[Category("Core")]
public sealed class ArrayMapTests
{
    private BpfSystem _bpf = null!;
    private int _fd;

    [SetUp]
    public void SetUp()
    {
        _bpf = NewSystem();
        _fd = Create(_bpf, MapType.Array, keySize: 4, valueSize: 12, maxEntries: 3);
    }

    [Test]
    public void Lookup_FreshArray_EveryElementExistsZeroed()
    {
        for (uint i = 0; i < 3; i++)
        {
            var v = new byte[12];
            v[0] = 0xff;
            Assert.That(_bpf.MapLookupElem(_fd, U32(i), v).IsOk);
            Assert.That(v, Is.All.EqualTo(0));
        }
    }

    [Test]
    public void Update_IndexOutOfRange_E2BIG() =>
        Assert.That(_bpf.MapUpdateElem(_fd, U32(3), new byte[12]).Errno, Is.EqualTo(Errno.E2BIG));

    [Test]
    public void Update_NoExist_EEXIST_ExistAndAnySucceed()
    {
        Assert.That(_bpf.MapUpdateElem(_fd, U32(0), new byte[12], UpdateFlags.NoExist).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(_bpf.MapUpdateElem(_fd, U32(0), new byte[12], UpdateFlags.Exist).IsOk);
        Assert.That(_bpf.MapUpdateElem(_fd, U32(0), new byte[12], UpdateFlags.Any).IsOk);
    }

    [Test]
    public void Update_UnknownFlags_EINVAL() =>
        Assert.That(_bpf.MapUpdateElem(_fd, U32(0), new byte[12], 3).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void Delete_AlwaysEINVAL()
    {
        var r = _bpf.MapDeleteElem(_fd, U32(0));
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("cannot be deleted"));
    }

    [Test]
    public void Lookup_OutOfRange_ENOENT() =>
        Assert.That(_bpf.MapLookupElem(_fd, U32(7), new byte[12]).Errno, Is.EqualTo(Errno.ENOENT));

    [TestCase(null, 0u)]
    [TestCase(0u, 1u)]
    [TestCase(1u, 2u)]
    [TestCase(3u, 0u)]
    [TestCase(uint.MaxValue, 0u)]
    public void GetNextKey_FollowsArrayMapGetNextKey(uint? key, uint expected)
    {
        var next = new byte[4];
        Assert.That(_bpf.MapGetNextKey(_fd, key is null ? default : U32(key.Value), next).IsOk);
        Assert.That(ReadU32(next), Is.EqualTo(expected));
    }

    [Test]
    public void GetNextKey_LastIndex_ENOENT() =>
        Assert.That(_bpf.MapGetNextKey(_fd, U32(2), new byte[4]).Errno, Is.EqualTo(Errno.ENOENT));

    [Test]
    public void LookupAndDelete_NotSupportedOnArrays_ENOTSUPP() =>
        Assert.That(_bpf.MapLookupAndDeleteElem(_fd, U32(0), new byte[12]).Errno, Is.EqualTo(Errno.ENOTSUPP));

    [Test]
    public void ValuesRoundTrip_AndDoNotBleedIntoNeighbours()
    {
        var a = Enumerable.Repeat((byte)0xAA, 12).ToArray();
        _bpf.MapUpdateElem(_fd, U32(1), a).ThrowIfFailed();
        var v = new byte[12];
        _bpf.MapLookupElem(_fd, U32(1), v).ThrowIfFailed();
        Assert.That(v, Is.EqualTo(a));
        _bpf.MapLookupElem(_fd, U32(2), v).ThrowIfFailed();
        Assert.That(v, Is.All.EqualTo(0));
    }
}
