namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// The packet a packet program (XDP, tcx) runs on, as <c>struct xdp_buff</c> holds it and <c>struct xdp_md</c> shows
/// it (include/uapi/linux/bpf.h, include/net/xdp.h): a frame with headroom, the offsets of data_meta, data and
/// data_end in it, the receiving interface and rx queue, and what a redirect helper chose. A ref struct over a
/// caller's buffer, so running a program allocates nothing. Members are auto-properties (the public API
/// carries no mutable fields); they compile to plain field accesses.
/// </summary>
public ref struct PacketContext
{
    /// <summary>The whole buffer: headroom, then the packet, then tailroom.</summary>
    public Span<byte> Frame { get; set; }

    /// <summary>Offset of the packet's first byte (xdp->data) in <see cref="Frame"/>.</summary>
    public int Data { get; set; }

    /// <summary>Offset just past the packet's last byte (xdp->data_end).</summary>
    public int DataEnd { get; set; }

    /// <summary>Offset of the metadata area (xdp->data_meta); equal to <see cref="Data"/> when there is none.</summary>
    public int DataMeta { get; set; }

    /// <summary>The receiving interface (rxq->dev->ifindex).</summary>
    public uint IngressIfindex { get; set; }

    /// <summary>The receive queue (rxq->queue_index).</summary>
    public uint RxQueueIndex { get; set; }

    /// <summary>The transmitting interface for programs run at egress (devmap programs); 0 at ingress.</summary>
    public uint EgressIfindex { get; set; }

    /// <summary>The simulated time the program runs at (bpf_ktime_get_ns).</summary>
    public long NowNs { get; set; }

    /// <summary>Where bpf_redirect/bpf_redirect_map sent the packet (bpf_redirect_info.tgt_index); 0 for nowhere.</summary>
    public uint RedirectIfindex { get; set; }

    /// <summary>The packet's bytes, data to data_end.</summary>
    public readonly Span<byte> Packet => Frame[Data..DataEnd];
}
