using System.Text.Json;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// A map created with BTF key and value types dumps as bpftool dumps it then (tools/bpf/bpftool/map.c): plain text
/// through btf_dumper's pretty writer, JSON with a <c>formatted</c> member; map_check_btf refuses types of the wrong size.
/// </summary>
public sealed class BpftoolBtfDumpTests
{
    // 1 u32, 2 u64, 3 struct src_count { u64 packets; u64 bytes; }, 4 var total (u64), 5 DATASEC .data { total }
    private static readonly BtfSpec s_btf = new(
    [
        new BtfInt("unsigned int", 4, BtfIntEncoding.None, 0, 32),
        new BtfInt("unsigned long long", 8, BtfIntEncoding.None, 0, 64),
        new BtfComposite("src_count", false, 16, [new BtfMember("packets", 2, 0, 0), new BtfMember("bytes", 2, 64, 0)]),
        new BtfVar("total", 2, BtfLinkage.Global),
        new BtfDatasec(".data", 8, [new BtfVarSecInfo(4, 0, 8)]),
    ]);

    private static BpfMap Create(BpfSystem bpf, MapType type, uint keyType = 1, uint valueType = 3, uint valueSize = 16, uint maxEntries = 4) =>
        Create(bpf, type, out _, keyType, valueType, valueSize, maxEntries);

    private static BpfMap Create(BpfSystem bpf, MapType type, out int fd, uint keyType = 1, uint valueType = 3, uint valueSize = 16, uint maxEntries = 4)
    {
        var r = bpf.MapCreate(new MapSpec
        {
            Type = type, KeySize = 4, ValueSize = valueSize, MaxEntries = maxEntries, Name = "counts",
            Btf = s_btf, BtfKeyTypeId = keyType, BtfValueTypeId = valueType,
        }, out fd);
        Assert.That(r.IsOk, r.Reason);
        return TestMaps.Live(bpf, fd);
    }

    private static byte[] Count(ulong packets, ulong bytes) => [.. TestMaps.U64(packets), .. TestMaps.U64(bytes)];

    [Test]
    public void PlainDump_IsBtfDumpersPrettyArray_WithNoFoundLine()
    {
        var bpf = TestMaps.NewSystem();
        var map = Create(bpf, MapType.Hash, out int fd);
        bpf.MapUpdateElem(fd, TestMaps.U32(7), Count(3, 300)).ThrowIfFailed();
        Assert.That(map.Info.BtfValueTypeId, Is.EqualTo(3u));
        Assert.That(BpftoolText.MapDump(map), Is.EqualTo(
            "[{\n        \"key\": 7,\n        \"value\": {\n            \"packets\": 3,\n            \"bytes\": 300\n        }\n    }\n]\n"));
    }

    [Test]
    public void JsonDump_KeepsTheHexAndAddsFormatted()
    {
        var bpf = TestMaps.NewSystem();
        var map = Create(bpf, MapType.Hash, out int fd);
        bpf.MapUpdateElem(fd, TestMaps.U32(7), Count(3, 300)).ThrowIfFailed();
        var entry = BpftoolJson.MapDump(map).Single()!;
        Assert.That(entry["key"]!.AsArray().Select(n => (string)n!), Is.EqualTo(new[] { "0x07", "0x00", "0x00", "0x00" }));
        Assert.That(entry["value"]!.AsArray(), Has.Count.EqualTo(16));
        Assert.That(entry["formatted"]!.ToJsonString(), Is.EqualTo("{\"key\":7,\"value\":{\"packets\":3,\"bytes\":300}}"));
        Assert.That((uint)BpftoolJson.MapInfo(map)["btf_value_type_id"]!, Is.EqualTo(3u));
    }

    [Test]
    public void PercpuMap_FormatsOneValuePerCpu()
    {
        var bpf = TestMaps.NewSystem(cpus: 2);
        var map = Create(bpf, MapType.PercpuArray, out int fd, valueType: 2, valueSize: 8);
        var values = new byte[16];
        values[0] = 5;
        values[8] = 6;
        bpf.MapUpdateElem(fd, TestMaps.U32(0), values).ThrowIfFailed();
        var entry = BpftoolJson.MapDump(map)[0]!;
        Assert.That(entry["formatted"]!.ToJsonString(),
            Is.EqualTo("{\"key\":0,\"values\":[{\"cpu\":0,\"value\":5},{\"cpu\":1,\"value\":6}]}"));
        Assert.That(BpftoolText.MapDump(map), Does.Contain("\"values\": [{\n                \"cpu\": 0,\n                \"value\": 5\n            },{"));
        using var doc = JsonDocument.Parse(BpftoolText.MapDump(map));
        Assert.That(doc.RootElement.GetArrayLength(), Is.EqualTo(4));
    }

    [Test]
    public void MapWithoutKeyType_PrintsTheValueOnly()
    {
        var bpf = TestMaps.NewSystem();
        // The one keyless kind array_map_check_btf allows: a one-element array of a DATASEC (.data, .bss, .rodata).
        var map = Create(bpf, MapType.Array, keyType: 0, valueType: 5, valueSize: 8, maxEntries: 1);
        Assert.That(BpftoolJson.MapDump(map)[0]!["formatted"]!.ToJsonString(), Is.EqualTo("{\"value\":{\".data\":[{\"total\":0}]}}"),
            "btf_dumper_datasec: the section's name, then its variables");
    }

    [Test]
    public void MapWithoutBtf_KeepsTheHexForm()
    {
        var bpf = TestMaps.NewSystem();
        int fd = TestMaps.Create(bpf, MapType.Hash, keySize: 4, valueSize: 4);
        var map = TestMaps.Live(bpf, fd);
        bpf.MapUpdateElem(fd, TestMaps.U32(1), TestMaps.U32(2)).ThrowIfFailed();
        Assert.That(BpftoolText.MapDump(map), Is.EqualTo("key: 01 00 00 00  value: 02 00 00 00\nFound 1 element\n"));
        Assert.That(BpftoolJson.MapDump(map)[0]!["formatted"], Is.Null);
    }

    [TestCase(2u, 3u, TestName = "MapCheckBtf_KeyTypeOfTheWrongSize_IsEinval")]
    [TestCase(1u, 2u, TestName = "MapCheckBtf_ValueTypeOfTheWrongSize_IsEinval")]
    [TestCase(1u, 0u, TestName = "MapCheckBtf_KeyTypeWithoutValueType_IsEinval")]
    [TestCase(1u, 99u, TestName = "MapCheckBtf_NoSuchType_IsEinval")]
    public void MapCheckBtf_Refuses(uint keyType, uint valueType)
    {
        var bpf = TestMaps.NewSystem();
        var r = bpf.MapCreate(new MapSpec
        {
            Type = MapType.Hash, KeySize = 4, ValueSize = 16, MaxEntries = 4, Btf = s_btf, BtfKeyTypeId = keyType, BtfValueTypeId = valueType,
        }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
    }
}
