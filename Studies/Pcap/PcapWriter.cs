using System.Buffers.Binary;

namespace BpfSim.Studies.Pcap;

/// <summary>
/// A classic libpcap savefile (pcap-savefile(5)) with nanosecond timestamps (magic 0xa1b23c4d, version 2.4,
/// LINKTYPE_ETHERNET), written little-endian through a buffer; records reuse one header array, so writing one
/// allocates nothing.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    /// <summary>The magic number of a nanosecond-resolution pcap file.</summary>
    public const uint NanosecondMagic = 0xa1b23c4d;

    /// <summary>LINKTYPE_ETHERNET.</summary>
    public const uint LinkTypeEthernet = 1;

    private readonly Stream _stream;
    private readonly byte[] _record = new byte[16];

    /// <summary>Creates <paramref name="path"/> and writes the file header.</summary>
    /// <param name="path">The file to create (replaced if it exists).</param>
    /// <param name="snapLength">The most bytes of a frame written; longer frames are cut.</param>
    /// <exception cref="IOException">The file cannot be created.</exception>
    public PcapWriter(string path, int snapLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        SnapLength = snapLength;
        // Shared, so a contained run replayed after a hung consumer call can recreate the file its abandoned attempt holds.
        _stream = new BufferedStream(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), 1 << 16);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, NanosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0);  // thiszone
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        _stream.Write(header);
    }

    public int SnapLength { get; }

    /// <summary>Frames written so far.</summary>
    public long Records { get; private set; }

    /// <summary>Writes one record: the frame's captured bytes and its length on the wire, at <paramref name="timeNs"/>.</summary>
    public void Write(long timeNs, ReadOnlySpan<byte> captured, int wireLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_record, (uint)(timeNs / 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(4), (uint)(timeNs % 1_000_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(8), (uint)captured.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(12), (uint)wireLength);
        _stream.Write(_record);
        _stream.Write(captured);
        Records++;
    }

    public void Dispose() => _stream.Dispose();
}
