using System.Buffers.Binary;

namespace BpfSim.Tcp.Net;

/// <summary>
/// The Internet checksum (RFC 1071): the ones' complement of the ones'-complement sum of 16-bit big-endian words, as
/// the IPv4 header and TCP (over its pseudo-header) carry it.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running 32-bit sum (an odd last byte is padded with zero).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }
        return sum;
    }

    /// <summary>Folds the carries of a running sum and complements it: the value to store in the header.</summary>
    public static ushort Finish(uint sum)
    {
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/> alone.</summary>
    public static ushort Of(ReadOnlySpan<byte> data) => Finish(Add(0, data));
}
