using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// A clang-compiled object with a QUEUE and a STACK map in .maps (key_size 0) whose init pushes, peeks and pops through
/// bpf_map_push_elem/pop_elem/peek_elem (helpers 87–89, kernel/bpf/helpers.c), run in the interpreter; every result
/// follows kernel/bpf/queue_stack_maps.c.
/// </summary>
public sealed class QueueStackHelperTests
{
    [TestCase("tcp_ca_queue")]
    [TestCase("tcp_ca_queue.v3")]
    public void Init_PushesPopsPeeks_AsTheKernel(string objectName)
    {
        var s = new TcpScenario();
        LoadedObject? obj = null;
        foreach (var info in ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(objectName)))
        {
            var r = ConsumerLoading.Load(s.System.Bpf, info, out var loaded);
            Assert.That(r.IsOk, r.Reason);
            Assert.That(loaded!.Register().IsOk);
        }
        obj = ConsumerLoading.Objects(s.System.Bpf).Single(o => Path.GetFileNameWithoutExtension(o.Source) == objectName);
        var fifo = obj.Maps.Single(m => m.Name == "fifo").Map;
        var lifo = obj.Maps.Single(m => m.Name == "lifo").Map;
        Assert.That((fifo.Type, fifo.KeySize, fifo.ValueSize, fifo.MaxEntries), Is.EqualTo((MapType.Queue, 0, 4, 2u)));
        Assert.That((lifo.Type, lifo.KeySize, lifo.ValueSize, lifo.MaxEntries), Is.EqualTo((MapType.Stack, 0, 4, 2u)));

        s.Flow("qmap_ca");
        s.RunFor(1);

        var bss = BssGlobals.Read(s.System.Bpf, obj);
        long e2big = -(long)Errno.E2BIG, enoent = -(long)Errno.ENOENT;
        Assert.Multiple(() =>
        {
            Assert.That(bss.Int("inits"), Is.GreaterThanOrEqualTo(1));
            // push 1, push 2, push 3 (full: E2BIG), push 3 with BPF_EXIST (drops the oldest), peek, pop, pop, pop (empty).
            Assert.That(bss.Longs("fifo_rc", 8), Is.EqualTo(new long[] { 0, 0, e2big, 0, 0, 0, 0, enoent }));
            Assert.That(bss.Longs("lifo_rc", 8), Is.EqualTo(new long[] { 0, 0, e2big, 0, 0, 0, 0, enoent }));
            // The queue held 2, 3 after the overwrite: peek 2, pop 2, pop 3; the failed pop zeroed its value.
            Assert.That(bss.U32s("fifo_seen", 4), Is.EqualTo(new uint[] { 2, 2, 3, 0 }));
            // The stack held 2, 3 (bottom 1 dropped): peek 3, pop 3, pop 2.
            Assert.That(bss.U32s("lifo_seen", 4), Is.EqualTo(new uint[] { 3, 3, 2, 0 }));
        });
        Assert.That((fifo.Count, lifo.Count), Is.EqualTo((0, 0)));
    }

    [TestCase("tcp_ca_queue")]
    [TestCase("tcp_ca_queue.v3")]
    public void LookupOnQueue_FaultsWithVerifierMessage(string objectName)
    {
        var s = new TcpScenario();
        var info = ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(objectName)).Single(i => i.Name == "qmap_bad");
        Assert.That(ConsumerLoading.Load(s.System.Bpf, info, out var loaded).IsOk);
        Assert.That(loaded!.Register().IsOk);
        var ops = s.Flow("qmap_bad").Ops;

        s.RunFor(1);

        // check_map_func_compatibility (kernel/bpf/verifier.c) refuses this at load; bpfsim faults the call.
        Assert.That(ops.Guard?.Fault?.Message, Does.Contain("cannot pass map_type 22 into func bpf_map_lookup_elem#1"));
        Assert.That(ops.Guard!.Fault!.Member, Is.EqualTo("init"));
    }
}
