using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Tests.Core.Bpf;

[Category("Core")]
public sealed class TypedMapTests
{
    private struct FlowKey
    {
        public uint Saddr;
        public uint Daddr;
    }

    private struct Stats
    {
        public ulong Packets;
        public ulong Bytes;
    }

    [Test]
    public void Create_TypeSizesMustMatchSpec_EINVAL()
    {
        var bpf = TestMaps.NewSystem();
        var e = Assert.Throws<BpfException>(() => Map<FlowKey, Stats>.Create(bpf,
            new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 4 }));
        Assert.That(e!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(e.Message, Does.Contain("Stats is 16 bytes"));
    }

    [Test]
    public void FromFd_SizeMismatch_EINVAL()
    {
        var bpf = TestMaps.NewSystem();
        int fd = TestMaps.Create(bpf, MapType.Hash, keySize: 8, valueSize: 8);
        Assert.That(Assert.Throws<BpfException>(() => Map<ulong, Stats>.FromFd(bpf, fd))!.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Assert.Throws<BpfException>(() => Map<ulong, ulong>.FromFd(bpf, 77))!.Errno, Is.EqualTo(Errno.EBADF));
    }

    [Test]
    public void UpdateLookupDeleteKeys_RoundTrip()
    {
        var bpf = TestMaps.NewSystem();
        using var map = Map<FlowKey, Stats>.Create(bpf, new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 16, MaxEntries = 4 });
        var k = new FlowKey { Saddr = 1, Daddr = 2 };
        Assert.That(map.TryLookup(k, out _), Is.False);
        map.Update(k, new Stats { Packets = 3, Bytes = 4500 });
        Assert.That(map.Lookup(k).Bytes, Is.EqualTo(4500));
        Assert.That(map.Keys(), Is.EqualTo(new[] { k }));
        var e = Assert.Throws<BpfException>(() => map.Update(k, default, UpdateFlags.NoExist));
        Assert.That(e!.Errno, Is.EqualTo(Errno.EEXIST));
        Assert.That(map.Delete(k), Is.True);
        Assert.That(map.Delete(k), Is.False);
        Assert.Throws<BpfException>(() => map.Lookup(k));
    }

    [Test]
    public void Percpu_LookupReturnsEveryCpu_UpdateReplicates()
    {
        var bpf = TestMaps.NewSystem(cpus: 3);
        using var map = Map<uint, uint>.Create(bpf, new MapSpec { Type = MapType.PercpuArray, KeySize = 4, ValueSize = 4, MaxEntries = 2 });
        map.Update(1, 9u);
        Assert.That(map.LookupPercpu(1), Is.EqualTo(new uint[] { 9, 9, 9 }));
        map.UpdatePercpu(0, new uint[] { 1, 2, 3 });
        Assert.That(map.LookupPercpu(0), Is.EqualTo(new uint[] { 1, 2, 3 }));
        Assert.Throws<InvalidOperationException>(() => map.TryLookup(0, out _));
    }

    [Test]
    public void ProgramLookup_ReturnsReferenceIntoTheMap()
    {
        var bpf = TestMaps.NewSystem();
        using var map = Map<uint, ulong>.Create(bpf, new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 2 });
        using (bpf.EnterProgram(0))
        {
            ref ulong counter = ref map.ProgramLookup(1);
            counter += 41;
            counter++;
            Assert.That(Unsafe.IsNullRef(ref map.ProgramLookup(5)), Is.True);
        }
        Assert.That(map.Lookup(1), Is.EqualTo(42));
    }
}
