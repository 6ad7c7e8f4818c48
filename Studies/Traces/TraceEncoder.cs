using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace BpfSim.Studies.Traces;

/// <summary>
/// Encodes the per-packet records (ack, send, ca) straight into a file's buffer, byte for byte as
/// <c>MessagePack.MessagePackWriter</c> encodes the same values (smallest integer form, fixstr/str8, fixarray/array16;
/// a test holds the two equal on random values). MessagePackWriter costs about 100 ns for a 17-field record, from its
/// per-record set-up and a buffer check per value, which made a full trace 1.7 times the cost of the run; this writes
/// into a span the file has already made room for (<see cref="TraceFile.MaxRecordBytes"/>) and costs about 15 ns.
/// The rare records (queue, struct_ops) go through MessagePackWriter itself.
/// </summary>
internal ref struct TraceEncoder
{
    private readonly Span<byte> _span;
    private int _written;

    public TraceEncoder(Span<byte> span)
    {
        _span = span;
        _written = 0;
    }

    /// <summary>Bytes encoded so far.</summary>
    public readonly int Written => _written;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ArrayHeader(int count)
    {
        if (count <= 15)
        {
            _span[_written++] = (byte)(0x90 | count);
        }
        else
        {
            _span[_written] = 0xdc;
            BinaryPrimitives.WriteUInt16BigEndian(_span[(_written + 1)..], (ushort)count);
            _written += 3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Bool(bool value) => _span[_written++] = value ? (byte)0xc3 : (byte)0xc2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Int(long value)
    {
        if (value >= 0)
        {
            UInt((ulong)value);
        }
        else
        {
            Negative(value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void UInt(ulong value)
    {
        if (value <= 0x7f)
        {
            _span[_written++] = (byte)value;
        }
        else
        {
            LargeUInt(value);
        }
    }

    private void LargeUInt(ulong value)
    {
        var s = _span[_written..];
        if (value <= byte.MaxValue)
        {
            s[0] = 0xcc;
            s[1] = (byte)value;
            _written += 2;
        }
        else if (value <= ushort.MaxValue)
        {
            s[0] = 0xcd;
            BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)value);
            _written += 3;
        }
        else if (value <= uint.MaxValue)
        {
            s[0] = 0xce;
            BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)value);
            _written += 5;
        }
        else
        {
            s[0] = 0xcf;
            BinaryPrimitives.WriteUInt64BigEndian(s[1..], value);
            _written += 9;
        }
    }

    private void Negative(long value)
    {
        var s = _span[_written..];
        if (value >= -32)
        {
            s[0] = unchecked((byte)(sbyte)value);
            _written += 1;
        }
        else if (value >= sbyte.MinValue)
        {
            s[0] = 0xd0;
            s[1] = unchecked((byte)(sbyte)value);
            _written += 2;
        }
        else if (value >= short.MinValue)
        {
            s[0] = 0xd1;
            BinaryPrimitives.WriteInt16BigEndian(s[1..], (short)value);
            _written += 3;
        }
        else if (value >= int.MinValue)
        {
            s[0] = 0xd2;
            BinaryPrimitives.WriteInt32BigEndian(s[1..], (int)value);
            _written += 5;
        }
        else
        {
            s[0] = 0xd3;
            BinaryPrimitives.WriteInt64BigEndian(s[1..], value);
            _written += 9;
        }
    }

    /// <summary>A UTF-8 string of fewer than 256 bytes (fixstr or str8).</summary>
    public void String(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length <= 31)
        {
            _span[_written++] = (byte)(0xa0 | utf8.Length);
        }
        else
        {
            _span[_written] = 0xd9;
            _span[_written + 1] = checked((byte)utf8.Length);
            _written += 2;
        }
        utf8.CopyTo(_span[_written..]);
        _written += utf8.Length;
    }
}
