using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Tests.Core.Bpf.Net;

/// <summary>BPF_MAP_TYPE_DEVMAP's rules (kernel/bpf/devmap.c: dev_map_alloc_check, __dev_map_update_elem, __dev_map_alloc_node).</summary>
[Category("Bpf")]
public sealed class DevMapTests
{
    private static (BpfSystem Bpf, int Fd, uint Ifindex) Make(uint valueSize = 4)
    {
        var bpf = new BpfSystem();
        uint ifindex = bpf.AddNetDevice("eth0").Ifindex;
        bpf.MapCreate(new MapSpec { Type = MapType.DevMap, KeySize = 4, ValueSize = valueSize, MaxEntries = 4, Name = "tx_ports" }, out int fd).ThrowIfFailed();
        return (bpf, fd, ifindex);
    }

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);

    [TestCase(4u, 3u, TestName = "Create_ValueSize3_IsEinval")]
    [TestCase(8u, 12u, TestName = "Create_ValueSize12_IsEinval")]
    [TestCase(2u, 4u, TestName = "Create_KeySize2_IsEinval")]
    public void Create_BadSizes(uint keySize, uint valueSize)
    {
        var bpf = new BpfSystem();
        var r = bpf.MapCreate(new MapSpec { Type = MapType.DevMap, KeySize = keySize, ValueSize = valueSize, MaxEntries = 4 }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Update_WithAnExistingDevice_IsLookedUpAsItsIfindex_AndFoundByRedirect()
    {
        var (bpf, fd, ifindex) = Make();
        bpf.MapUpdateElem(fd, U32(1), U32(ifindex)).ThrowIfFailed();
        var value = new byte[4];
        bpf.MapLookupElem(fd, U32(1), value).ThrowIfFailed();
        Assert.That(BitConverter.ToUInt32(value), Is.EqualTo(ifindex));
        bpf.GetMap(fd, out var map).ThrowIfFailed();
        Assert.That(((DevMap)map).TryGetIfindex(1, out uint found) && found == ifindex);
        Assert.That(((DevMap)map).TryGetIfindex(0, out _), Is.False, "an empty slot");
    }

    [Test]
    public void Update_Errors_AreTheKernels()
    {
        var (bpf, fd, ifindex) = Make();
        Assert.That(bpf.MapUpdateElem(fd, U32(0), U32(99)).Errno, Is.EqualTo(Errno.EINVAL), "dev_get_by_index finds nothing");
        Assert.That(bpf.MapUpdateElem(fd, U32(4), U32(ifindex)).Errno, Is.EqualTo(Errno.E2BIG), "index past max_entries");
        Assert.That(bpf.MapUpdateElem(fd, U32(0), U32(ifindex), UpdateFlags.NoExist).Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(bpf.MapLookupElem(fd, U32(2), new byte[4]).Errno, Is.EqualTo(Errno.ENOENT), "an empty slot");
        Assert.That(bpf.MapDeleteElem(fd, U32(9)).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(bpf.MapDeleteElem(fd, U32(2)).IsOk, "deleting an empty slot is fine");
    }

    [Test]
    public void EightByteValue_WithAProgramFd_IsEinval_WithoutOne_Works()
    {
        var (bpf, fd, ifindex) = Make(valueSize: 8);
        byte[] Value(uint ifi, int prog) => [.. U32(ifi), .. BitConverter.GetBytes(prog)];
        Assert.That(bpf.MapUpdateElem(fd, U32(0), Value(ifindex, 5)).Errno, Is.EqualTo(Errno.EINVAL), "bpfsim runs no devmap programs");
        Assert.That(bpf.MapUpdateElem(fd, U32(0), Value(0, 5)).Errno, Is.EqualTo(Errno.EINVAL), "a program fd without a device");
        bpf.MapUpdateElem(fd, U32(0), Value(ifindex, 0)).ThrowIfFailed();
        var value = new byte[8];
        bpf.MapLookupElem(fd, U32(0), value).ThrowIfFailed();
        Assert.That((BitConverter.ToUInt32(value), BitConverter.ToUInt32(value, 4)), Is.EqualTo((ifindex, 0u)), "bpf_prog.id 0");
    }
}
