using System.Buffers.Binary;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;

namespace BpfSim.Programs.Xdp;

/// <summary>
/// The C# twin of Programs/bpf/xdp_src_counter.bpf.c: counts the IPv4 packets and bytes it sees per source address in
/// a hash map <c>src_counts</c> (key: the address as the packet carries it, network byte order; value: two u64,
/// packets then bytes) and drops every packet from <see cref="DropAddr"/>. Non-IPv4 frames pass uncounted. Two
/// independent implementations of one program: a scenario run with either gives the same map.
/// </summary>
[XdpProgram("xdp_src_counter_cs", Description = "per-source packet/byte counter dropping drop_addr (C# twin of xdp_src_counter.bpf.o)")]
public sealed class XdpSrcCounterCs
{
    private const int EthHeader = 14;
    private const int IpSaddr = EthHeader + 12;
    private const ushort EthPIp = 0x0800;
    private readonly BpfMap _counts;

    /// <summary>Creates <c>src_counts</c> (BPF_MAP_TYPE_HASH, 1024 entries), as the object's loader does.</summary>
    public XdpSrcCounterCs(XdpConsumerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _counts = context.CreateMap(new MapSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 16, MaxEntries = 1024, Name = "src_counts" });
    }

    /// <summary>The source address whose packets are dropped (host byte order, e.g. 0x0a010002); 0 drops nothing.</summary>
    [StructOpsOption("drop_addr", Description = "source address to drop, host byte order; 0 for none")]
    public uint DropAddr { get; set; }

    /// <summary>Counts the packet under its source address; XDP_DROP for <see cref="DropAddr"/>, else XDP_PASS.</summary>
    public int Run(ref PacketContext ctx)
    {
        var packet = ctx.Packet;
        // The verifier's bounds check: an Ethernet and an IPv4 header, and the EtherType IPv4.
        if (packet.Length < EthHeader + 20 || BinaryPrimitives.ReadUInt16BigEndian(packet[12..]) != EthPIp)
        {
            return (int)XdpAction.Pass;
        }
        var src = packet.Slice(IpSaddr, 4);
        var count = _counts.Lookup(src);
        if (count.IsEmpty)
        {
            Span<byte> init = stackalloc byte[16];
            init.Clear();
            _counts.Update(src, init, UpdateFlags.NoExist);
            count = _counts.Lookup(src);
            if (count.IsEmpty)
            {
                return (int)XdpAction.Pass;
            }
        }
        BinaryPrimitives.WriteUInt64LittleEndian(count, BinaryPrimitives.ReadUInt64LittleEndian(count) + 1);
        BinaryPrimitives.WriteUInt64LittleEndian(count[8..], BinaryPrimitives.ReadUInt64LittleEndian(count[8..]) + (ulong)packet.Length);
        return DropAddr != 0 && BinaryPrimitives.ReadUInt32BigEndian(src) == DropAddr ? (int)XdpAction.Drop : (int)XdpAction.Pass;
    }
}
