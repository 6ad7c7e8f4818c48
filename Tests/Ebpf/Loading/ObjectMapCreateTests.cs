using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>The object loader creates maps with what libbpf passes (bpf_object__create_map in tools/lib/bpf/libbpf.c).</summary>
public sealed class ObjectMapCreateTests
{
    [Test]
    public void QueueAndStackMaps_AreCreatedWithoutBtf_AsLibbpfStripsIt()
    {
        var spec = TestObjects.Read("tcp_ca_queue");
        Assert.That(spec.Maps.Single(m => m.Name == "fifo").ValueTypeId, Is.Not.Zero, "the object gives the value's type");
        // A kernel with tcp_congestion_ops in its BTF, for the object's programs.
        var bpf = new TcpScenario().System.Bpf;
        var r = ObjectLoader.Load(bpf, spec, "tcp_ca_queue.o", out var loaded);
        Assert.That(r.IsOk, r.Reason);
        foreach (var m in loaded!.Maps)
        {
            Assert.That((m.Name, m.Map.Info.BtfValueTypeId), Is.EqualTo((m.Name, 0u)));
        }
    }

    [Test]
    public void MapExtraInAnObject_ReachesMapCreate_AndIsEinvalOutsideBloomFilters()
    {
        var spec = TestObjects.Read("tcp_ca_queue");
        var withExtra = spec with { Maps = [.. spec.Maps.Select(m => m.Name == "fifo" ? m with { MapExtra = 3 } : m)] };
        var r = ObjectLoader.Load(new TcpScenario().System.Bpf, withExtra, "tcp_ca_queue.o", out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("map fifo").And.Contain("map_extra"));
    }
}
