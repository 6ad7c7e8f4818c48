using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>Per-CPU value rules (bpf_map_value_size, pcpu_copy_value, pcpu_init_value).</summary>
[Category("Core")]
public sealed class PercpuMapTests
{
    [TestCase(MapType.PercpuArray, 4u, 4u, 32)]
    [TestCase(MapType.PercpuArray, 4u, 8u, 32)]
    [TestCase(MapType.PercpuHash, 8u, 12u, 64)]
    [TestCase(MapType.PercpuHash, 8u, 1u, 32)]
    public void SyscallValue_IsValueRoundedTo8TimesPossibleCpus(MapType type, uint key, uint value, int expected)
    {
        var bpf = NewSystem(cpus: 4);
        int fd = Create(bpf, type, keySize: key, valueSize: value);
        Assert.That(Live(bpf, fd).SyscallValueSize, Is.EqualTo(expected));
        var r = bpf.MapLookupElem(fd, new byte[key], new byte[value]);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL), "a one-CPU buffer is the wrong size");
        Assert.That(r.Reason, Does.Contain("4 possible CPUs"));
    }

    [Test]
    public void PercpuArray_UserUpdateWritesEveryCpu_ProgramSeesItsOwnSlot()
    {
        var bpf = NewSystem(cpus: 3);
        int fd = Create(bpf, MapType.PercpuArray, keySize: 4, valueSize: 4, maxEntries: 2);
        var all = new byte[24];
        for (int cpu = 0; cpu < 3; cpu++)
        {
            all[cpu * 8] = (byte)(10 + cpu);
        }
        bpf.MapUpdateElem(fd, U32(1), all).ThrowIfFailed();
        var map = Live(bpf, fd);
        for (int cpu = 0; cpu < 3; cpu++)
        {
            using (bpf.EnterProgram(cpu))
            {
                Assert.That(map.Lookup(U32(1))[0], Is.EqualTo(10 + cpu));
            }
        }
    }

    [Test]
    public void PercpuArray_ProgramUpdateTouchesOnlyCurrentCpu()
    {
        var bpf = NewSystem(cpus: 4);
        int fd = Create(bpf, MapType.PercpuArray, keySize: 4, valueSize: 8, maxEntries: 1);
        var map = Live(bpf, fd);
        using (bpf.EnterProgram(2))
        {
            Assert.That(map.Update(U32(0), U64(99)), Is.EqualTo(Errno.None));
        }
        var all = new byte[32];
        bpf.MapLookupElem(fd, U32(0), all).ThrowIfFailed();
        Assert.That(Enumerable.Range(0, 4).Select(c => ReadU64(all.AsSpan(c * 8))), Is.EqualTo(new ulong[] { 0, 0, 99, 0 }));
    }

    [Test]
    public void PercpuHash_NewElementFromProgram_OtherCpusZeroed()
    {
        var bpf = NewSystem(cpus: 2);
        int fd = Create(bpf, MapType.PercpuHash, keySize: 8, valueSize: 8);
        var map = Live(bpf, fd);
        using (bpf.EnterProgram(1))
        {
            map.Update(U64(5), U64(7));
        }
        var all = new byte[16];
        bpf.MapLookupElem(fd, U64(5), all).ThrowIfFailed();
        Assert.That((ReadU64(all), ReadU64(all.AsSpan(8))), Is.EqualTo((0UL, 7UL)));
    }

    [Test]
    public void PercpuHash_ExistingElementFromProgram_OnlyThisCpuChanges()
    {
        var bpf = NewSystem(cpus: 2);
        int fd = Create(bpf, MapType.PercpuHash, keySize: 8, valueSize: 8);
        var both = new byte[16];
        both[0] = 1;
        both[8] = 2;
        bpf.MapUpdateElem(fd, U64(5), both).ThrowIfFailed();
        using (bpf.EnterProgram(0))
        {
            Live(bpf, fd).Update(U64(5), U64(50));
        }
        bpf.MapLookupElem(fd, U64(5), both).ThrowIfFailed();
        Assert.That((ReadU64(both), ReadU64(both.AsSpan(8))), Is.EqualTo((50UL, 2UL)));
    }

    [Test]
    public void PercpuHash_FullMap_E2BIG()
    {
        var bpf = NewSystem(cpus: 2);
        int fd = Create(bpf, MapType.PercpuHash, keySize: 8, valueSize: 8, maxEntries: 1);
        bpf.MapUpdateElem(fd, U64(1), new byte[16]).ThrowIfFailed();
        Assert.That(bpf.MapUpdateElem(fd, U64(2), new byte[16]).Errno, Is.EqualTo(Errno.E2BIG));
    }
}
