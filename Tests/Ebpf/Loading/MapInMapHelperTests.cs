using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// A clang-compiled object with an ARRAY_OF_MAPS and a HASH_OF_MAPS of QUEUE maps (the shape scx_qmap uses): the program
/// looks up a slot (array_of_map_lookup_elem, kernel/bpf/arraymap.c; htab_of_map_lookup_elem, kernel/bpf/hashtab.c),
/// gets the inner map or NULL, and pushes and pops on it; the test fills the slots and checks the queues through the
/// syscall side.
/// </summary>
public sealed class MapInMapHelperTests
{
    [TestCase("tcp_ca_mim")]
    [TestCase("tcp_ca_mim.v3")]
    public void Load_CreatesOuterMapFromInnerDefinition(string objectName)
    {
        var (s, obj) = Load(objectName, "mim_ca");
        var queues = (ArrayOfMaps)obj.Maps.Single(m => m.Name == "queues").Map;
        Assert.That((queues.Type, queues.KeySize, queues.ValueSize, queues.MaxEntries), Is.EqualTo((MapType.ArrayOfMaps, 4, 4, 2u)));
        Assert.That(queues.Template, Is.EqualTo(new InnerMapTemplate(MapType.Queue, 0, 4, MapFlags.None, 4)));
        var byId = (HashOfMaps)obj.Maps.Single(m => m.Name == "queues_by_id").Map;
        Assert.That((byId.KeySize, byId.ValueSize, byId.MaxEntries), Is.EqualTo((4, 4, 4u)));
        Assert.That(byId.Template, Is.EqualTo(queues.Template));
        // bpf_object__create_map closes the template once the outer map exists: only the object's own maps are held.
        Assert.That(obj.Maps.Select(m => m.Name), Does.Not.Contain("queues.inner"));
        _ = s;
    }

    [TestCase("tcp_ca_mim")]
    [TestCase("tcp_ca_mim.v3")]
    public void Init_PushesAndPopsOnInnerQueue_EmptySlotIsNull(string objectName)
    {
        var (s, obj) = Load(objectName, "mim_ca");
        var bpf = s.System.Bpf;
        int outerFd = obj.Maps.Single(m => m.Name == "queues").Fd;
        bpf.MapCreate(new MapSpec { Type = MapType.Queue, KeySize = 0, ValueSize = 4, MaxEntries = 4, Name = "q0" }, out int q0).ThrowIfFailed();
        bpf.MapCreate(new MapSpec { Type = MapType.Queue, KeySize = 0, ValueSize = 4, MaxEntries = 4, Name = "q42" }, out int q42).ThrowIfFailed();
        // Each update waits one grace period (maybe_wait_bpf_programs), so the flow starts after them.
        bpf.MapUpdateElem(outerFd, U32(0), U32((uint)q0)).ThrowIfFailed();
        bpf.MapUpdateElem(obj.Maps.Single(m => m.Name == "queues_by_id").Fd, U32(42), U32((uint)q42)).ThrowIfFailed();

        s.Flow("mim_ca", startS: 0.1);
        s.RunFor(1);

        var bss = BssGlobals.Read(bpf, obj);
        Assert.Multiple(() =>
        {
            Assert.That(bss.Int("inits"), Is.GreaterThanOrEqualTo(1));
            Assert.That(bss.Int("found0"), Is.EqualTo(1));
            Assert.That(bss.Longs("push_rc", 2), Is.EqualTo(new long[] { 0, 0 }));
            Assert.That(bss.Longs("pop_rc", 1), Is.EqualTo(new long[] { 0 }));
            Assert.That(bss.U32("popped"), Is.EqualTo(7u));
            // Slot 1 was never filled: the lookup gave NULL.
            Assert.That(bss.Int("found1"), Is.EqualTo(0));
            Assert.That(bss.Int("found42"), Is.EqualTo(1));
            Assert.That(bss.Longs("push42_rc", 1), Is.EqualTo(new long[] { 0 }));
        });
        // The program's queue is the one user space put in slot 0: 8 is left in it.
        var value = new byte[4];
        bpf.MapLookupAndDeleteElem(q0, [], value).ThrowIfFailed();
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(value), Is.EqualTo(8u));
        Assert.That(bpf.MapLookupAndDeleteElem(q0, [], value).Errno, Is.EqualTo(Errno.ENOENT));
        bpf.MapLookupAndDeleteElem(q42, [], value).ThrowIfFailed();
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(value), Is.EqualTo(9u));
    }

    [TestCase("tcp_ca_mim")]
    [TestCase("tcp_ca_mim.v3")]
    public void Init_EmptySlot_LookupIsNull(string objectName)
    {
        var (s, obj) = Load(objectName, "mim_ca");

        s.Flow("mim_ca");
        s.RunFor(1);

        var bss = BssGlobals.Read(s.System.Bpf, obj);
        Assert.That(bss.Int("inits"), Is.GreaterThanOrEqualTo(1));
        Assert.That((bss.Int("found0"), bss.Int("found1"), bss.Int("found42")), Is.EqualTo((0, 0, 0)));
        Assert.That(bss.Longs("push_rc", 2), Is.EqualTo(new long[] { 0, 0 }));
    }

    [TestCase("tcp_ca_mim")]
    [TestCase("tcp_ca_mim.v3")]
    public void LookupOnInnerQueue_FaultsWithVerifierMessage(string objectName)
    {
        var (s, obj) = Load(objectName, "mim_bad");
        var bpf = s.System.Bpf;
        bpf.MapCreate(new MapSpec { Type = MapType.Queue, KeySize = 0, ValueSize = 4, MaxEntries = 4, Name = "q0" }, out int q0).ThrowIfFailed();
        bpf.MapUpdateElem(obj.Maps.Single(m => m.Name == "queues").Fd, U32(0), U32((uint)q0)).ThrowIfFailed();
        var ops = s.Flow("mim_bad", startS: 0.1).Ops;

        s.RunFor(1);

        // check_map_func_compatibility (kernel/bpf/verifier.c) checks the inner map through inner_map_meta at load;
        // bpfsim faults the call.
        Assert.That(ops.Guard?.Fault?.Message, Does.Contain("cannot pass map_type 22 into func bpf_map_lookup_elem#1"));
        Assert.That(ops.Guard!.Fault!.Member, Is.EqualTo("init"));
    }

    [TestCase("mim_static_init")]
    [TestCase("mim_static_init.v3")]
    public void StaticSlotInitialiser_IsRefused(string objectName)
    {
        // libbpf fills such slots after creating the maps (init_slots); bpfsim refuses rather than leave them empty.
        var e = Assert.Throws<ObjectFormatException>(() => TestObjects.Read(objectName));
        Assert.That(e!.Message, Does.Contain("section '.maps' has relocations"));
    }

    private static (TcpScenario, LoadedObject) Load(string objectName, string variable)
    {
        var s = new TcpScenario();
        var info = ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(objectName)).Single(i => i.Name == variable);
        var r = ConsumerLoading.Load(s.System.Bpf, info, out var loaded);
        Assert.That(r.IsOk, r.Reason);
        Assert.That(loaded!.Register().IsOk);
        var obj = ConsumerLoading.Objects(s.System.Bpf).Single(o => Path.GetFileNameWithoutExtension(o.Source) == objectName);
        return (s, obj);
    }

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }
}
