using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Tests.Tcp;
using Bogus;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// A structops entry's <c>globals:</c> on a BPF object: variables of .rodata, .data and .bss set by BTF name before the
/// object loads (what a libbpf skeleton's <c>skel->rodata->x = …</c> does), every value checked against the
/// variable's BTF type; and on a C# consumer, its [StructOpsOption] fields and properties.
/// </summary>
public sealed class ConsumerGlobalsTests
{
    private static ConsumerInfo Info(TcpScenario s, string objectName = "tcp_ca_globals") =>
        ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(objectName)).Single();

    private static ConsumerGlobal G(string name, string value) => new(name, value, $"s.yaml:{name.Length}:3");

    private static byte[] Section(BpfSystem bpf, LoadedObject obj, string section)
    {
        var (_, fd, map) = obj.Maps.Single(m => m.Name == section);
        var value = new byte[map.ValueSize];
        bpf.MapLookupElem(fd, new byte[4], value).ThrowIfFailed();
        return value;
    }

    private static ReadOnlySpan<byte> Var(LoadedObject obj, byte[] bytes, string section, string name)
    {
        var v = obj.Spec.DataSections.Single(d => d.Name == section).Variables.Single(x => x.Name == name);
        return bytes.AsSpan((int)v.Offset, (int)v.Size);
    }

    [TestCase("tcp_ca_globals")]
    [TestCase("tcp_ca_globals.v3")]
    public void ObjectGlobals_SetBeforeLoad_InEachSection(string objectName)
    {
        var s = new TcpScenario();
        var info = Info(s, objectName);
        ConsumerGlobal[] globals =
        [
            G("fifo", "true"), G("u8v", "255"), G("s8v", "-128"), G("u16v", "0xffff"), G("s16v", "-32768"), G("u32v", "4294967295"),
            G("s32v", "-2147483648"), G("u64v", "18446744073709551615"), G("s64v", "-9223372036854775808"), G("mode", "MODE_BIG"),
            G("tag", "seven77"), G("counter", "-5"), G("total", "12"),
        ];
        Assert.That(ConsumerGlobals.Check(info, globals), Is.Empty);

        var r = ConsumerLoading.LoadObject(s.System.Bpf, info, globals, out var obj);

        Assert.That(r.IsOk, r.Reason);
        var ro = Section(s.System.Bpf, obj!, ".rodata");
        var data = Section(s.System.Bpf, obj!, ".data");
        var bss = Section(s.System.Bpf, obj!, ".bss");
        Assert.Multiple(() =>
        {
            Assert.That(Var(obj!, ro, ".rodata", "fifo")[0], Is.EqualTo(1));
            Assert.That(Var(obj!, ro, ".rodata", "u8v")[0], Is.EqualTo(255));
            Assert.That((sbyte)Var(obj!, ro, ".rodata", "s8v")[0], Is.EqualTo(-128));
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(Var(obj!, ro, ".rodata", "u16v")), Is.EqualTo(0xffff));
            Assert.That(BinaryPrimitives.ReadInt16LittleEndian(Var(obj!, ro, ".rodata", "s16v")), Is.EqualTo(-32768));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(Var(obj!, ro, ".rodata", "u32v")), Is.EqualTo(uint.MaxValue));
            Assert.That(BinaryPrimitives.ReadInt32LittleEndian(Var(obj!, ro, ".rodata", "s32v")), Is.EqualTo(int.MinValue));
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(Var(obj!, ro, ".rodata", "u64v")), Is.EqualTo(ulong.MaxValue));
            Assert.That(BinaryPrimitives.ReadInt64LittleEndian(Var(obj!, ro, ".rodata", "s64v")), Is.EqualTo(long.MinValue));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(Var(obj!, ro, ".rodata", "mode")), Is.EqualTo(70000));
            Assert.That(Var(obj!, ro, ".rodata", "tag").ToArray(), Is.EqualTo("seven77\0"u8.ToArray()));
            Assert.That(BinaryPrimitives.ReadInt32LittleEndian(Var(obj!, data, ".data", "counter")), Is.EqualTo(-5));
            // Untouched variables keep their initial values; a .bss one set becomes its value.
            Assert.That(BinaryPrimitives.ReadInt32LittleEndian(Var(obj!, data, ".data", "pair")), Is.EqualTo(1));
            Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(Var(obj!, bss, ".bss", "total")), Is.EqualTo(12));
        });
    }

    [Test]
    public void ObjectGlobals_SameSettingsShareOneObject_OthersGetTheirOwn()
    {
        var s = new TcpScenario();
        var info = Info(s);
        ConsumerLoading.LoadObject(s.System.Bpf, info, [G("counter", "1")], out var a).ThrowIfFailed();
        ConsumerLoading.LoadObject(s.System.Bpf, info, [G("counter", "1")], out var b).ThrowIfFailed();
        ConsumerLoading.LoadObject(s.System.Bpf, info, [G("counter", "2")], out var c).ThrowIfFailed();
        ConsumerLoading.LoadObject(s.System.Bpf, info, out var d).ThrowIfFailed();

        Assert.That(a, Is.SameAs(b));
        Assert.That(new[] { a, c, d }.Distinct().Count(), Is.EqualTo(3));
    }

    [TestCase("nope", "1", "tcp_ca_globals has no global variable 'nope' (it has: ")]
    [TestCase("fifo", "yes", ".rodata variable 'fifo' (bool): 'yes' is not a bool (true or false)")]
    [TestCase("u8v", "256", ".rodata variable 'u8v' (__u8): 256 does not fit (0 … 255)")]
    [TestCase("u8v", "-1", "-1 does not fit (0 … 255)")]
    [TestCase("s8v", "128", ".rodata variable 's8v' (__s8): 128 does not fit (-128 … 127)")]
    [TestCase("s16v", "-32769", "does not fit (-32768 … 32767)")]
    [TestCase("u32v", "4294967296", "does not fit (0 … 4294967295)")]
    [TestCase("s64v", "9223372036854775808", "does not fit (-9223372036854775808 … 9223372036854775807)")]
    [TestCase("u64v", "18446744073709551616", ".rodata variable 'u64v' (__u64): 18446744073709551616 does not fit (0 … 18446744073709551615)")]
    [TestCase("u32v", "1.5", "'1.5' is not an integer")]
    [TestCase("mode", "MODE_NONE", "'MODE_NONE' is neither an enumerator of enum mode (MODE_FIFO, MODE_VTIME, MODE_BIG) nor a number")]
    [TestCase("tag", "eightchr", "\"eightchr\" is 8 bytes; it holds at most 7 and the NUL")]
    [TestCase("hidden", "1", "'hidden' in .data of tcp_ca_globals is static")]
    [TestCase("pair", "1", ".data variable 'pair' (struct pair): a Struct cannot be set from a scenario")]
    [TestCase("where", "1", ".bss variable 'where' (pointer): a Ptr cannot be set")]
    public void ObjectGlobals_BadNameOrValue_ErrorAtItsLocation(string name, string value, string message)
    {
        var s = new TcpScenario();
        var info = Info(s);
        var g = G(name, value);

        var errors = ConsumerGlobals.Check(info, [G("counter", "3"), g]);

        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0].Global, Is.SameAs(g));
        Assert.That(errors[0].Message, Does.Contain(message));
        Assert.That(errors[0].ToString(), Does.StartWith(g.Location + ": "));
        var r = ConsumerLoading.Load(s.System.Bpf, info, [g], out var loaded);
        Assert.That((r.Errno, loaded), Is.EqualTo((Errno.EINVAL, (LoadedStructOps?)null)));
        Assert.That(r.Reason, Does.Contain(message));
    }

    [Test]
    public void ObjectGlobals_SetTwice_Refused()
    {
        var s = new TcpScenario();
        var errors = ConsumerGlobals.Check(Info(s), [G("counter", "1"), G("counter", "2")]);
        Assert.That(errors.Single().Message, Is.EqualTo("global 'counter' is set twice"));
    }

    [Test]
    public void ObjectGlobals_Describe_ListsSettableVariablesWithTypes()
    {
        var s = new TcpScenario();
        var described = ConsumerGlobals.Describe(Info(s));
        Assert.That(described, Does.Contain(("fifo", "bool")).And.Contain(("mode", "enum mode")).And.Contain(("tag", "char[8]")));
        Assert.That(described.Select(d => d.Name), Does.Not.Contain("hidden"));
    }

    [Test]
    public void ObjectGlobals_ProgramsReadTheSetValues()
    {
        var s = new TcpScenario();
        var info = Info(s);
        Assert.That(ConsumerLoading.Load(s.System.Bpf, info, [G("u8v", "100"), G("counter", "1000")], out var loaded).IsOk);
        Assert.That(loaded!.Register().IsOk);
        var obj = ConsumerLoading.Objects(s.System.Bpf).Single();
        var ssthresh = obj.Programs["globals_ssthresh"];
        scoped var c = ssthresh.NewContext();
        // Bind nothing: ssthresh reads no socket field, only globals.
        ulong r = ssthresh.Run(ref c, [0UL]);
        // fifo 0 + 100 + (-1) + 2 + (-2) + 3 + (-3) + total (4 - 4) + mode 1 + 'a' 97 + 1000 + hidden 10 + pair.a 1 + 0.
        Assert.That((int)(uint)r, Is.EqualTo(0 + 100 - 1 + 2 - 2 + 3 - 3 + 0 + 1 + 97 + 1000 + 10 + 1));
    }

    [Test]
    public void IntegerRange_Property_AcceptsExactlyWhatFits()
    {
        // For every width and sign, a value is accepted iff it lies in the C type's range (fixed seed: repeatable).
        var s = new TcpScenario();
        var info = Info(s);
        (string Name, long Min, ulong Max)[] vars =
        [
            ("u8v", 0, byte.MaxValue), ("s8v", sbyte.MinValue, (ulong)sbyte.MaxValue), ("u16v", 0, ushort.MaxValue),
            ("s16v", short.MinValue, (ulong)short.MaxValue), ("u32v", 0, uint.MaxValue), ("s32v", int.MinValue, int.MaxValue),
        ];
        var random = new Randomizer(20261126);
        for (int n = 0; n < 500; n++)
        {
            var (name, min, max) = vars[random.Int(0, vars.Length - 1)];
            long value = random.Long(-5_000_000_000, 5_000_000_000) >> random.Int(0, 32);
            bool fits = value >= min && (value < 0 || (ulong)value <= max);
            var errors = ConsumerGlobals.Check(info, [G(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            Assert.That(errors.Count == 0, Is.EqualTo(fits), $"{name} = {value}");
        }
    }
}
