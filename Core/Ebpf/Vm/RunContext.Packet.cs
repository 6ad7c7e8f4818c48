using BpfSim.Core.Ebpf.Memory;

namespace BpfSim.Core.Ebpf.Vm;

/// <summary>
/// The packet of a packet program's run (XDP): the <c>struct xdp_md</c> context whose data, data_end and data_meta
/// loads give pointers into the packet, as the verifier's convert_ctx_access rewrites them to the xdp_buff's
/// pointers (net/core/filter.c xdp_convert_ctx_access), and the packet region those pointers point into, which spans
/// data_meta to data_end: an access outside it faults, as one the verifier's range checks would have refused.
/// </summary>
public ref partial struct RunContext
{
    /// <summary>struct xdp_md's fields, u32 each (include/uapi/linux/bpf.h).</summary>
    public const int XdpMdData = 0, XdpMdDataEnd = 4, XdpMdDataMeta = 8, XdpMdIngressIfindex = 12, XdpMdRxQueueIndex = 16,
        XdpMdEgressIfindex = 20, XdpMdSize = 24;

    /// <summary>xdp->data: the packet's first byte, an offset in the bound frame.</summary>
    public readonly int PacketData => _packetData;

    /// <summary>xdp->data_end.</summary>
    public readonly int PacketDataEnd => _packetDataEnd;

    /// <summary>xdp->data_meta.</summary>
    public readonly int PacketDataMeta => _packetDataMeta;

    /// <summary>rxq->dev->ifindex.</summary>
    public readonly uint IngressIfindex => _ingressIfindex;

    /// <summary>rxq->queue_index.</summary>
    public readonly uint RxQueueIndex => _rxQueueIndex;

    /// <summary>txq->dev->ifindex (0 at ingress).</summary>
    public readonly uint EgressIfindex => _egressIfindex;

    /// <summary>What bpf_redirect / bpf_redirect_map chose (bpf_redirect_info's target, resolved to an ifindex).</summary>
    public uint RedirectIfindex
    {
        readonly get => _redirectIfindex;
        set => _redirectIfindex = value;
    }

    /// <summary>The frame the packet lives in (headroom, packet, tailroom up to the frame's hard end).</summary>
    public readonly Span<byte> Frame => _frame;

    /// <summary>
    /// Makes this run a packet program's: <paramref name="xdpMd"/> is the object's xdp_md region (array-backed, empty:
    /// every load from it comes here), <paramref name="packet"/> a call-scoped region the packet bytes are bound to.
    /// </summary>
    /// <exception cref="ArgumentException">The offsets are not 0 ≤ data_meta ≤ data ≤ data_end ≤ the frame's length.</exception>
    public void BindPacket(RegionHandle xdpMd, RegionHandle packet, Span<byte> frame, int dataMeta, int data, int dataEnd,
        uint ingressIfindex, uint rxQueueIndex, uint egressIfindex = 0)
    {
        if (dataMeta < 0 || dataMeta > data || data > dataEnd || dataEnd > frame.Length)
        {
            throw new ArgumentException($"bad packet offsets meta {dataMeta}, data {data}, end {dataEnd} in a frame of {frame.Length}");
        }
        _frame = frame;
        _xdpMdRegion = xdpMd.Value;
        _packetRegion = packet.Value;
        (_packetDataMeta, _packetData, _packetDataEnd) = (dataMeta, data, dataEnd);
        (_ingressIfindex, _rxQueueIndex, _egressIfindex) = (ingressIfindex, rxQueueIndex, egressIfindex);
        _redirectIfindex = 0;
        RebindPacket();
    }

    /// <summary>The program-visible address of frame offset <paramref name="frameOffset"/> (a packet pointer).</summary>
    public readonly ulong PacketAddress(int frameOffset) =>
        AddressSpace.AddressOf(new RegionHandle(_packetRegion), frameOffset - PacketDataMeta);

    private void RebindPacket() => Bind(new RegionHandle(_packetRegion), _frame[PacketDataMeta..PacketDataEnd]);

    /// <summary>sizeof(struct xdp_frame) on 64-bit: the start of the headroom the kernel keeps for the frame's own header.</summary>
    public const int XdpFrameHeaderBytes = 40;

    /// <summary>ETH_HLEN: the least a packet may be shrunk to.</summary>
    public const int EthernetHeaderBytes = 14;

    /// <summary>
    /// bpf_xdp_adjust_head (net/core/filter.c): moves data by <paramref name="delta"/> (negative grows the packet into
    /// the headroom), moving the metadata with it. Returns 0, or -EINVAL when data would go below the xdp_frame header
    /// and metadata or leave less than an Ethernet header. The verifier then forgets every packet pointer; here the
    /// packet region is rebound, so an old pointer reaches the wrong bytes or faults.
    /// </summary>
    public long AdjustHead(int delta)
    {
        int metaLength = PacketData - PacketDataMeta;
        long data = (long)PacketData + delta;
        if (data < XdpFrameHeaderBytes + metaLength || data > PacketDataEnd - EthernetHeaderBytes)
        {
            return -22;
        }
        if (metaLength > 0)
        {
            _frame.Slice(PacketDataMeta, metaLength).CopyTo(_frame[(PacketDataMeta + delta)..]);
        }
        _packetDataMeta += delta;
        _packetData = (int)data;
        RebindPacket();
        return 0;
    }

    /// <summary>
    /// bpf_xdp_adjust_tail: moves data_end by <paramref name="delta"/>, zeroing what it grows. Returns 0, or -EINVAL past
    /// the frame's hard end (the frame less skb_shared_info, <see cref="Frame"/>'s end) or below data + ETH_HLEN.
    /// </summary>
    public long AdjustTail(int delta)
    {
        long end = (long)PacketDataEnd + delta;
        if (end > _frame.Length || end < PacketData + EthernetHeaderBytes)
        {
            return -22;
        }
        if (delta > 0)
        {
            _frame.Slice(PacketDataEnd, delta).Clear();
        }
        _packetDataEnd = (int)end;
        RebindPacket();
        return 0;
    }

    /// <summary>
    /// A load from the xdp_md context: data, data_end and data_meta give packet pointers (the rewrite of
    /// convert_ctx_access), the other fields their values. False for any other address or a load that is not 4 bytes.
    /// </summary>
    internal readonly bool TryLoadPacketContext(ulong address, int size, out ulong value)
    {
        value = 0;
        ulong relative = address - AddressSpace.Base;
        if (_xdpMdRegion == 0 || (uint)(relative >> 32) != (uint)_xdpMdRegion || size != 4)
        {
            return false;
        }
        switch ((uint)relative)
        {
            case XdpMdData:
                value = PacketAddress(PacketData);
                return true;
            case XdpMdDataEnd:
                value = PacketAddress(PacketDataEnd);
                return true;
            case XdpMdDataMeta:
                value = PacketAddress(PacketDataMeta);
                return true;
            case XdpMdIngressIfindex:
                value = IngressIfindex;
                return true;
            case XdpMdRxQueueIndex:
                value = RxQueueIndex;
                return true;
            case XdpMdEgressIfindex:
                value = EgressIfindex;
                return true;
            default:
                return false;
        }
    }
}
