using System.Text.Json.Nodes;
using BpfSim.Core.Ebpf.Btf;

namespace BpfSim.Tests.Ebpf.Btf;

/// <summary>
/// BtfDumper kind by kind, on a hand-built BTF, in bpftool's plain-text form and its JSON form (the expected strings
/// are what tools/bpf/bpftool/btf_dumper.c writes for the same bytes on a little-endian host).
/// </summary>
public sealed class BtfDumperTests
{
    // Type ids: the order of this list, from 1.
    private const uint U8 = 1, S8 = 2, U16 = 3, S16 = 4, U32 = 5, S32 = 6, U64 = 7, S64 = 8, Bool = 9, Char = 10;
    private const uint Be32 = 11, ConstU32 = 12, VolatileBe32 = 13, Pair = 14, Union = 15, CharArray = 16, U16Array = 17;
    private const uint Color = 18, Big = 19, VoidPtr = 20, Bits = 21, Fwd = 22, Var = 23, Sec = 24, Float = 25, Int3Bits = 26, NamedChar = 27;
    private const uint NamedCharArray = 28;

    private static readonly BtfSpec s_btf = new(
    [
        new BtfInt("unsigned char", 1, BtfIntEncoding.None, 0, 8),
        new BtfInt("signed char", 1, BtfIntEncoding.Signed, 0, 8),
        new BtfInt("unsigned short", 2, BtfIntEncoding.None, 0, 16),
        new BtfInt("short", 2, BtfIntEncoding.Signed, 0, 16),
        new BtfInt("unsigned int", 4, BtfIntEncoding.None, 0, 32),
        new BtfInt("int", 4, BtfIntEncoding.Signed, 0, 32),
        new BtfInt("unsigned long long", 8, BtfIntEncoding.None, 0, 64),
        new BtfInt("long long", 8, BtfIntEncoding.Signed, 0, 64),
        new BtfInt("_Bool", 1, BtfIntEncoding.Bool, 0, 8),
        new BtfInt("c", 1, BtfIntEncoding.Char, 0, 8),
        new BtfAlias(BtfKind.Typedef, "__be32", U32),
        new BtfAlias(BtfKind.Const, "", U32),
        new BtfAlias(BtfKind.Volatile, "", Be32),
        new BtfComposite("pair", false, 16, [new BtfMember("a", S32, 0, 0), new BtfMember("b", U64, 64, 0)]),
        new BtfComposite("u", true, 4, [new BtfMember("i", S32, 0, 0), new BtfMember("h", U16, 0, 0)]),
        new BtfArray(Char, U32, 8),
        new BtfArray(U16, U32, 3),
        new BtfEnum("color", 4, false, false, [new BtfEnumValue("RED", 0), new BtfEnumValue("GREEN", 1)]),
        new BtfEnum("big", 8, false, true, [new BtfEnumValue("HUGE", unchecked((long)0x8000000000000000))]),
        new BtfPtr(0),
        new BtfComposite("bits", false, 4, [new BtfMember("lo", U32, 0, 4), new BtfMember("hi", U32, 4, 12), new BtfMember("rest", U16, 16, 0)]),
        new BtfFwd("later", false),
        new BtfVar("counter", U32, BtfLinkage.Global),
        new BtfDatasec(".bss", 8, [new BtfVarSecInfo(Var, 4, 4)]),
        new BtfFloat("float", 4),
        new BtfInt("u3", 1, BtfIntEncoding.None, 0, 3),
        new BtfInt("char", 1, BtfIntEncoding.Signed, 0, 8),
        new BtfArray(NamedChar, U32, 4),
    ]);

    private static string Plain(uint type, params byte[] data) => Dump(type, data, plainText: true, out _);

    private static string Json(uint type, params byte[] data) => Dump(type, data, plainText: false, out _);

    private static string Dump(uint type, byte[] data, bool plainText, out bool ok)
    {
        var writer = new BtfJsonWriter(pretty: false);
        ok = new BtfDumper(s_btf, writer, plainText).DumpType(type, data);
        return writer.ToString();
    }

    [TestCase(U8, new byte[] { 0xff }, "255")]
    [TestCase(S8, new byte[] { 0xff }, "-1")]
    [TestCase(U16, new byte[] { 0xfe, 0xff }, "65534")]
    [TestCase(S16, new byte[] { 0xfe, 0xff }, "-2")]
    [TestCase(U32, new byte[] { 0x0a, 0x01, 0x00, 0x03 }, "50331914")]
    [TestCase(S32, new byte[] { 0xff, 0xff, 0xff, 0xff }, "-1")]
    [TestCase(U64, new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "18446744073709551615")]
    [TestCase(S64, new byte[] { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "-2")]
    [TestCase(Bool, new byte[] { 1 }, "true")]
    [TestCase(Bool, new byte[] { 0 }, "false")]
    [TestCase(Int3Bits, new byte[] { 0xfd }, "0x5")]
    public void Int_PrintsBySizeAndSignedness(uint type, byte[] data, string plain)
    {
        Assert.That(Plain(type, data), Is.EqualTo(plain));
        // Only sub-byte ints (printed through btf_int128_print) are quoted in JSON.
        Assert.That(Json(type, data), Is.EqualTo(plain.StartsWith("0x", StringComparison.Ordinal) ? $"\"{plain}\"" : plain));
    }

    [Test]
    public void Char_PrintableIsAString_OtherwiseHexInPlainTextAndAUnicodeEscapeInJson()
    {
        Assert.That(Plain(Char, (byte)'A'), Is.EqualTo("\"A\""));
        Assert.That(Plain(Char, 0x07), Is.EqualTo("0x7"));
        Assert.That(Json(Char, 0x07), Is.EqualTo("\"\\u0007\""));
        Assert.That(JsonNode.Parse(Json(Char, (byte)'"'))!.GetValue<string>(), Is.EqualTo("\""), "escaped in JSON, unlike bpftool");
    }

    [Test]
    public void TypedefsAndQualifiers_PrintWhatTheyName()
    {
        byte[] data = [0x0a, 0x01, 0x00, 0x03];
        Assert.That(Plain(Be32, data), Is.EqualTo("50331914"));
        Assert.That(Plain(ConstU32, data), Is.EqualTo("50331914"));
        Assert.That(Plain(VolatileBe32, data), Is.EqualTo("50331914"));
    }

    [Test]
    public void StructAndUnion_AreObjectsOfTheirMembersByName()
    {
        byte[] pair = [0xfb, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x39, 0x30, 0, 0, 0, 0, 0, 0];
        Assert.That(Plain(Pair, pair), Is.EqualTo("{\"a\":-5,\"b\":12345}"));
        Assert.That(Plain(Union, 0xff, 0xff, 0xff, 0xff), Is.EqualTo("{\"i\":-1,\"h\":65535}"));
    }

    [Test]
    public void Bitfields_AreHex_QuotedInJsonOnly()
    {
        // lo = 0xa (bits 0-3), hi = 0x123 (bits 4-15), rest = 0x7 (bits 16-31).
        byte[] data = [0x3a, 0x12, 0x07, 0x00];
        Assert.That(Plain(Bits, data), Is.EqualTo("{\"lo\":0xa,\"hi\":0x123,\"rest\":7}"));
        Assert.That(JsonNode.Parse(Json(Bits, data))!.ToJsonString(), Is.EqualTo("{\"lo\":\"0xa\",\"hi\":\"0x123\",\"rest\":7}"));
    }

    [Test]
    public void Arrays_CharArrayWithANulIsAString_OtherArraysListTheirElements()
    {
        Assert.That(Plain(CharArray, "eth0\0\0\0\0"u8.ToArray()), Is.EqualTo("\"eth0\""));
        Assert.That(Plain(NamedCharArray, "abc\0"u8.ToArray()), Is.EqualTo("\"abc\""), "a 1-byte int named char counts as char");
        Assert.That(Plain(CharArray, "abcdefgh"u8.ToArray()), Is.EqualTo("[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]"), "no NUL: not a string");
        Assert.That(Plain(CharArray, 1, 0, 0, 0, 0, 0, 0, 0), Does.StartWith("[0x1,0x0,"), "not printable: not a string");
        Assert.That(Plain(U16Array, 1, 0, 2, 0, 3, 0), Is.EqualTo("[1,2,3]"));
    }

    [Test]
    public void Enums_PrintTheEnumeratorName_OrTheNumber()
    {
        Assert.That(Plain(Color, 1, 0, 0, 0), Is.EqualTo("\"GREEN\""));
        Assert.That(Plain(Color, 0xff, 0xff, 0xff, 0xff), Is.EqualTo("-1"));
        Assert.That(Plain(Big, 0, 0, 0, 0, 0, 0, 0, 0x80), Is.EqualTo("\"HUGE\""));
        Assert.That(Plain(Big, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), Is.EqualTo("-1"), "jsonw_int: signed");
    }

    [Test]
    public void Pointers_AreQuotedHexInPlainText_DecimalInJson()
    {
        byte[] p = [0x00, 0x10, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff];
        Assert.That(Plain(VoidPtr, p), Is.EqualTo("\"0xffff800000001000\""));
        Assert.That(Json(VoidPtr, p), Is.EqualTo("18446603336221200384"));
        Assert.That(Plain(VoidPtr, new byte[8]), Is.EqualTo("\"(nil)\""), "glibc's %p of NULL");
    }

    [Test]
    public void VarAndDatasec_AreObjectsNamedAfterThem()
    {
        Assert.That(Plain(Sec, 0, 0, 0, 0, 7, 0, 0, 0), Is.EqualTo("{\".bss\":[{\"counter\":7}]}"));
    }

    [Test]
    public void ForwardAndUnsupportedKinds_FailAsBpftoolDoes()
    {
        Assert.That(Dump(Fwd, [0], plainText: true, out bool ok), Is.EqualTo("(fwd-kind-invalid)"));
        Assert.That(ok, Is.False);
        Assert.That(Dump(Float, [0, 0, 0, 0], plainText: true, out ok), Is.EqualTo("(unsupported-kind"));
        Assert.That(ok, Is.False);
    }

    [Test]
    public void ShortData_IsABtfException()
    {
        Assert.Throws<BtfException>(() => Plain(U64, 1, 2, 3));
    }

    [Test]
    public void PrettyWriter_LaysOutAsBpftoolsJsonWriter()
    {
        var writer = new BtfJsonWriter(pretty: true);
        var dumper = new BtfDumper(s_btf, writer, plainText: true);
        writer.StartArray();
        for (int i = 0; i < 2; i++)
        {
            writer.StartObject();
            writer.Name("key");
            dumper.DumpType(U32, [(byte)i, 0, 0, 0]);
            writer.Name("value");
            dumper.DumpType(Pair, new byte[16]);
            writer.EndObject();
        }
        writer.EndArray();
        writer.Finish();
        Assert.That(writer.ToString(), Is.EqualTo(
            "[{\n        \"key\": 0,\n        \"value\": {\n            \"a\": 0,\n            \"b\": 0\n        }\n    }," +
            "{\n        \"key\": 1,\n        \"value\": {\n            \"a\": 0,\n            \"b\": 0\n        }\n    }\n]\n"));
        var empty = new BtfJsonWriter(pretty: true);
        empty.StartArray();
        empty.EndArray();
        empty.Finish();
        Assert.That(empty.ToString(), Is.EqualTo("[]\n"));
    }
}
