using System.Buffers;
using BpfSim.Studies.Traces;
using MessagePack;

namespace BpfSim.Tests.Studies.Traces;

/// <summary><see cref="TraceEncoder"/> writes exactly what MessagePackWriter writes for the same values.</summary>
[Category("Traces")]
public sealed class TraceEncoderTests
{
    private static readonly long[] Edges =
    [
        0, 1, 31, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue,
        -1, -32, -33, -128, -129, short.MinValue, short.MinValue - 1, int.MinValue, (long)int.MinValue - 1, long.MinValue,
    ];

    [Test]
    public void Integers_EdgesAndRandom_EncodeAsMessagePackWriterDoes()
    {
        var random = new Random(1301);
        // Random magnitudes over every size class, positive and negative.
        var values = Edges.Concat(Enumerable.Range(0, 2000).Select(i => (random.NextInt64() >> random.Next(64)) * (i % 2 == 0 ? 1 : -1)));
        Span<byte> span = stackalloc byte[16];
        foreach (long value in values)
        {
            var expected = new ArrayBufferWriter<byte>();
            var w = new MessagePackWriter(expected);
            w.Write(value);
            w.Flush();
            var e = new TraceEncoder(span);
            e.Int(value);
            Assert.That(span[..e.Written].ToArray(), Is.EqualTo(expected.WrittenSpan.ToArray()), $"{value}");
            if (value >= 0)
            {
                var u = new TraceEncoder(span);
                u.UInt((ulong)value);
                Assert.That(span[..u.Written].ToArray(), Is.EqualTo(expected.WrittenSpan.ToArray()), $"{value} unsigned");
            }
        }
    }

    [TestCase(0)]
    [TestCase(11)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(300)]
    public void ArrayHeadersBoolsAndStrings_EncodeAsMessagePackWriterDoes(int count)
    {
        string text = new('m', count % 200);
        var expected = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(expected);
        w.WriteArrayHeader(count);
        w.Write(true);
        w.Write(false);
        w.WriteString(System.Text.Encoding.UTF8.GetBytes(text));
        w.Write(ulong.MaxValue);
        w.Flush();
        Span<byte> span = stackalloc byte[512];
        var e = new TraceEncoder(span);
        e.ArrayHeader(count);
        e.Bool(true);
        e.Bool(false);
        e.String(System.Text.Encoding.UTF8.GetBytes(text));
        e.UInt(ulong.MaxValue);
        Assert.That(span[..e.Written].ToArray(), Is.EqualTo(expected.WrittenSpan.ToArray()));
    }
}
