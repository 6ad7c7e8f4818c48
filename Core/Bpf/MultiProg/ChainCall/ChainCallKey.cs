using System.Buffers.Binary;

namespace BpfSim.Core.Bpf.MultiProg.ChainCall;

/// <summary>
/// The key of a chain-call map (the 2019 XDP chain-call RFC): the program that just ran and the action it returned.
/// {0, 0} names the first program of the chain.
/// </summary>
public readonly record struct ChainCallKey(uint ProgId, uint Action)
{
    /// <summary>Bytes of a key: two little-endian u32.</summary>
    public const int Size = 8;

    /// <summary>The entry that holds the first program.</summary>
    public static ChainCallKey Start => default;

    /// <summary>The key as the map stores it.</summary>
    internal ulong Packed => ((ulong)ProgId << 32) | Action;

    internal static ChainCallKey FromPacked(ulong packed) => new((uint)(packed >> 32), (uint)packed);

    /// <summary>The key in the syscall layout.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, ProgId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Action);
    }

    /// <summary>The key as a new 8-byte array.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        Write(bytes);
        return bytes;
    }

    /// <summary>Reads a key from the syscall layout.</summary>
    public static ChainCallKey Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]));
}
