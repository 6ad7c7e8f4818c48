using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Tests;

/// <summary>Factory helpers shared by map tests.</summary>
internal static class TestMaps
{
    public static BpfSystem NewSystem(int cpus = 4, InnerMapReplaceWait wait = InnerMapReplaceWait.SynchronizeRcu) =>
        new(new BpfSystemOptions { Cpus = cpus, InnerMapWait = wait });

    public static int Create(BpfSystem bpf, MapType type, uint keySize = 8, uint valueSize = 8, uint maxEntries = 4,
        MapFlags flags = MapFlags.None, int innerFd = 0)
    {
        var r = bpf.MapCreate(new MapSpec
        {
            Type = type, KeySize = keySize, ValueSize = valueSize, MaxEntries = maxEntries, Flags = flags, InnerMapFd = innerFd,
        }, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    public static ulong ReadU64(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt64LittleEndian(b);

    public static uint ReadU32(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32LittleEndian(b);

    public static BpfMap Live(BpfSystem bpf, int fd)
    {
        bpf.GetMap(fd, out var map).ThrowIfFailed();
        return map;
    }
}
