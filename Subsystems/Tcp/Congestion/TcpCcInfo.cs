using System.Buffers.Binary;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// What <c>get_info</c> reports: the inet_diag attribute numbers (include/uapi/linux/inet_diag.h), the extension mask
/// <c>ss -i</c> requests, and a decoder for the members of <c>union tcp_cc_info</c> (include/uapi/linux/inet_diag.h)
/// into named values, as <c>ss</c> prints them.
/// </summary>
public static class TcpCcInfo
{
    /// <summary>INET_DIAG_INFO: struct tcp_info.</summary>
    public const int InetDiagInfo = 2;
    /// <summary>INET_DIAG_VEGASINFO: struct tcpvegas_info, and the attribute every algorithm answers to.</summary>
    public const int InetDiagVegasInfo = 3;
    /// <summary>INET_DIAG_CONG: the algorithm's name.</summary>
    public const int InetDiagCong = 4;
    /// <summary>INET_DIAG_DCTCPINFO: struct tcp_dctcp_info.</summary>
    public const int InetDiagDctcpInfo = 9;
    /// <summary>INET_DIAG_BBRINFO: struct tcp_bbr_info.</summary>
    public const int InetDiagBbrInfo = 16;

    /// <summary>
    /// The extensions <c>ss -i</c> asks for (INFO, VEGASINFO and CONG). Algorithms answer VEGASINFO with their own
    /// struct because a request cannot carry more bits ("due to req struct limits", tcp_dctcp.c).
    /// </summary>
    public const uint SsExtensions = (1u << (InetDiagInfo - 1)) | (1u << (InetDiagVegasInfo - 1)) | (1u << (InetDiagCong - 1));

    /// <summary>sizeof(union tcp_cc_info): the largest member, struct tcp_bbr_info.</summary>
    public const int UnionSize = 20;

    /// <summary>One field of a <c>union tcp_cc_info</c> member: where it is, and how to scale it to its unit.</summary>
    public sealed record Field(string Name, string Unit, int Attr, int Offset, int Size, double Scale)
    {
        /// <summary>The field's value in <see cref="Unit"/>.</summary>
        public double Read(ReadOnlySpan<byte> info) => Scale * Size switch
        {
            2 => BinaryPrimitives.ReadUInt16LittleEndian(info[Offset..]),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(info[Offset..]),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(info[Offset..]),
        };
    }

    /// <summary>
    /// The fields of struct tcpvegas_info, tcp_dctcp_info and tcp_bbr_info, named as the structs' fields (with the
    /// algorithm as prefix): times in ms, rates in Mbit/s, alpha as a fraction, gains as multipliers.
    /// </summary>
    public static IReadOnlyList<Field> Fields { get; } =
    [
        new("vegas_enabled", "flag", InetDiagVegasInfo, 0, 4, 1),
        new("vegas_rttcnt", "count", InetDiagVegasInfo, 4, 4, 1),
        new("vegas_rtt", "ms", InetDiagVegasInfo, 8, 4, 1e-3),
        new("vegas_minrtt", "ms", InetDiagVegasInfo, 12, 4, 1e-3),
        new("dctcp_enabled", "flag", InetDiagDctcpInfo, 0, 2, 1),
        new("dctcp_ce_state", "flag", InetDiagDctcpInfo, 2, 2, 1),
        new("dctcp_alpha", "fraction", InetDiagDctcpInfo, 4, 4, 1.0 / 1024),
        new("dctcp_ab_ecn", "bytes", InetDiagDctcpInfo, 8, 4, 1),
        new("dctcp_ab_tot", "bytes", InetDiagDctcpInfo, 12, 4, 1),
        new("bbr_bw", "Mbps", InetDiagBbrInfo, 0, 8, 8 / 1e6), // bw_lo and bw_hi: bytes per second
        new("bbr_min_rtt", "ms", InetDiagBbrInfo, 8, 4, 1e-3),
        new("bbr_pacing_gain", "gain", InetDiagBbrInfo, 12, 4, 1.0 / 256),
        new("bbr_cwnd_gain", "gain", InetDiagBbrInfo, 16, 4, 1.0 / 256),
    ];

    /// <summary>The values of one reported attribute, with names and units; nothing for an unknown attribute.</summary>
    public static IEnumerable<(string Name, double Value, string Unit)> Decode(int attr, ReadOnlySpan<byte> info)
    {
        var values = new List<(string, double, string)>();
        foreach (var f in Fields)
        {
            if (f.Attr == attr && f.Offset + f.Size <= info.Length)
            {
                values.Add((f.Name, f.Read(info), f.Unit));
            }
        }
        return values;
    }
}
