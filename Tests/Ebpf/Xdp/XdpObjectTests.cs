using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Ebpf.Xdp;

/// <summary>
/// XDP programs from clang-compiled objects: the xdp_md context's packet pointers, packet bounds, the XDP helpers
/// (adjust_head/tail bounds, redirect, redirect_map on a DEVMAP) and Programs/bpf's xdp_src_counter.
/// </summary>
[Category("Ebpf")]
public sealed class XdpObjectTests
{
    private const int Headroom = 256;

    private static BytecodeProgram Load(BpfSystem bpf, out LoadedObject obj, params ConsumerGlobal[] globals)
    {
        var spec = BpfObjects.Read("xdp_src_counter");
        if (globals.Length > 0)
        {
            spec = ConsumerGlobals.Apply(spec, globals, out var errors);
            Assert.That(errors, Is.Empty);
        }
        ObjectLoader.Load(bpf, spec, "xdp_src_counter", out var loaded, autocreate: []).ThrowIfFailed();
        obj = loaded!;
        ObjectLoader.LoadXdpProgram(bpf, obj, null, out var program).ThrowIfFailed();
        return program!;
    }

    /// <summary>A frame with an Ethernet + IPv4 header from <paramref name="src"/>, <paramref name="length"/> bytes after the headroom.</summary>
    private static byte[] Frame(uint src, int length = 100)
    {
        var frame = new byte[4096 - 320];
        var p = frame.AsSpan(Headroom);
        BinaryPrimitives.WriteUInt16BigEndian(p[12..], 0x0800);
        p[14] = 0x45;
        p[22] = 64;
        BinaryPrimitives.WriteUInt32BigEndian(p[26..], src);
        _ = length;
        return frame;
    }

    private static int Run(BytecodeProgram program, byte[] frame, int length = 100)
    {
        var ctx = new PacketContext { Frame = frame, Data = Headroom, DataMeta = Headroom, DataEnd = Headroom + length, IngressIfindex = 1 };
        return program.RunPacket(ref ctx);
    }

    private static Dictionary<uint, (ulong Packets, ulong Bytes)> Counts(BpfSystem bpf, LoadedObject obj)
    {
        var map = obj.Maps.Single(m => m.Name == "src_counts");
        var result = new Dictionary<uint, (ulong, ulong)>();
        var key = new byte[4];
        var next = new byte[4];
        var value = new byte[16];
        var r = bpf.MapGetNextKey(map.Fd, [], next);
        while (r.IsOk)
        {
            next.CopyTo(key, 0);
            bpf.MapLookupElem(map.Fd, key, value).ThrowIfFailed();
            result[BinaryPrimitives.ReadUInt32BigEndian(key)] = (BitConverter.ToUInt64(value, 0), BitConverter.ToUInt64(value, 8));
            r = bpf.MapGetNextKey(map.Fd, key, next);
        }
        return result;
    }

    [Test]
    public void SrcCounter_CountsPacketsAndBytesPerSource_AndDropsTheConfiguredOne()
    {
        var bpf = new BpfSystem();
        var program = Load(bpf, out var obj, new ConsumerGlobal("drop_addr", "0x0a010002", "test"));
        Assert.That(Run(program, Frame(0x0a010001), 100), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(Run(program, Frame(0x0a010001), 60), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(Run(program, Frame(0x0a010002), 80), Is.EqualTo((int)XdpAction.Drop));
        var counts = Counts(bpf, obj);
        Assert.That(counts[0x0a010001], Is.EqualTo((2UL, 160UL)));
        Assert.That(counts[0x0a010002], Is.EqualTo((1UL, 80UL)));
    }

    [Test]
    public void SrcCounter_PassesAFrameTooShortForAnIpHeader_UncountedAndWithoutFault()
    {
        var bpf = new BpfSystem();
        var program = Load(bpf, out var obj);
        Assert.That(Run(program, Frame(0x0a010001), 20), Is.EqualTo((int)XdpAction.Pass));
        Assert.That(Counts(bpf, obj), Is.Empty);
        Assert.That(program.Faults, Is.Zero);
    }

    [Test]
    public void LoadXdpProgram_ByAStructOpsName_IsEinval()
    {
        var bpf = new BpfSystem();
        var spec = BpfObjects.Read("xdp_src_counter");
        ObjectLoader.Load(bpf, spec, "x", out var obj, autocreate: []).ThrowIfFailed();
        var r = ObjectLoader.LoadXdpProgram(bpf, obj!, "no_such", out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Cause, Does.Contain("xdp_src_counter"));
    }
}
