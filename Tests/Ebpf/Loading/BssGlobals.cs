using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Loading;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// A loaded object's <c>.bss</c> as user space reads it (one lookup of key 0 in the section's array map), with its
/// variables found by name in the object's BTF-described data section.
/// </summary>
internal sealed class BssGlobals
{
    private readonly byte[] _bytes;
    private readonly LoadedObject _obj;

    private BssGlobals(byte[] bytes, LoadedObject obj) => (_bytes, _obj) = (bytes, obj);

    public static BssGlobals Read(BpfSystem bpf, LoadedObject obj)
    {
        var (_, fd, map) = obj.Maps.Single(m => m.Name == ".bss");
        var value = new byte[map.ValueSize];
        bpf.MapLookupElem(fd, new byte[4], value).ThrowIfFailed();
        return new BssGlobals(value, obj);
    }

    public int Int(string name) => BinaryPrimitives.ReadInt32LittleEndian(Var(name));

    public uint U32(string name) => BinaryPrimitives.ReadUInt32LittleEndian(Var(name));

    public long[] Longs(string name, int n)
    {
        byte[] bytes = Var(name).ToArray();
        return Enumerable.Range(0, n).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * 8))).ToArray();
    }

    public uint[] U32s(string name, int n)
    {
        byte[] bytes = Var(name).ToArray();
        return Enumerable.Range(0, n).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4))).ToArray();
    }

    private ReadOnlySpan<byte> Var(string name)
    {
        var v = _obj.Spec.DataSections.Single(d => d.Name == ".bss").Variables.Single(x => x.Name == name);
        return _bytes.AsSpan((int)v.Offset, (int)v.Size);
    }
}
