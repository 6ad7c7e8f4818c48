using System.Text.Json;
using System.Text.Json.Nodes;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Tracing;

namespace BpfSim.Studies.Traces;

/// <summary>
/// The one description of what a trace folder holds (<c>--trace DIR</c>, docs/traces.md): its files, and every record
/// type as a MessagePack array of fixed shape <c>[type, t_ns, ...]</c>. The writer, <c>schema.json</c> and
/// <c>bpfsim trace convert</c> all follow it.
/// </summary>
public static class TraceSchema
{
    /// <summary>Bumped when a record's shape changes.</summary>
    public const int Version = 1;

    /// <summary>The file name a flow's records go to: <c>flow-0001.msgpack</c> for flow 1 (the summary's flow id).</summary>
    public static string FlowFile(int flowId) => $"flow-{flowId:D4}.msgpack";

    public const string LinksFile = "links.msgpack";
    public const string StructOpsFile = "struct_ops.msgpack";
    public const string SchemaFile = "schema.json";

    public const int Ack = 1;
    public const int Send = 2;
    public const int Ca = 3;
    public const int Queue = 4;
    public const int StructOps = 5;

    private static TraceField I(string name, string unit, string description) => new(name, TraceFieldKind.Integer, unit, description);
    private static TraceField B(string name, string description) => new(name, TraceFieldKind.Boolean, "", description);
    private static TraceField S(string name, string description) => new(name, TraceFieldKind.String, "", description);

    private static readonly TraceField[] Head =
    [
        I("type", "", "the record type's code"),
        I("t_ns", "ns", "simulated time"),
    ];

    /// <summary>Every record type, by code.</summary>
    public static readonly IReadOnlyList<TraceRecordType> Records =
    [
        new(Ack, "ack", "flow-NNNN.msgpack", "the sender processed an ACK (tcp_ack, after congestion control, before it transmits)",
        [
            .. Head,
            I("flow", "", "flow id (as in summary.json)"),
            I("ack_seq", "bytes", "the ACK's acknowledgment number (32-bit wire value; ISN 0, the SYN takes 1)"),
            I("cwnd", "packets", "snd_cwnd after the ACK"),
            I("ssthresh", "packets", "snd_ssthresh (2147483647: infinite, TCP_INFINITE_SSTHRESH)"),
            I("srtt_us", "us", "smoothed RTT (srtt_us >> 3, tcpi_rtt)"),
            I("rttvar_us", "us", "RTT mean deviation (mdev_us >> 2, tcpi_rttvar)"),
            I("inflight", "packets", "packets_in_flight: packets_out - (sacked_out + lost_out) + retrans_out"),
            I("ca_state", "", "icsk_ca_state: 0 Open, 1 Disorder, 2 CWR, 3 Recovery, 4 Loss"),
            I("rs_delivered", "packets", "rate_sample.delivered (-1: no sample on this ACK)"),
            I("rs_interval_us", "us", "rate_sample.interval_us (-1: no sample, or shorter than min_rtt)"),
            I("rs_rate_bps", "bit/s", "rs_delivered x mss x 8 / rs_interval_us (-1 when either is -1 or 0)"),
            I("rs_acked_sacked", "packets", "rate_sample.acked_sacked: newly delivered by this ACK"),
            I("rs_losses", "packets", "rate_sample.losses: newly marked lost by this ACK"),
            B("rs_app_limited", "rate_sample.is_app_limited"),
        ]),
        new(Send, "send", "flow-NNNN.msgpack", "a data segment left the sender (tcp_transmit_skb; one record per MSS-sized segment of a TSO skb)",
        [
            .. Head,
            I("flow", "", "flow id"),
            I("seq", "bytes", "first sequence number of the segment"),
            I("end_seq", "bytes", "one past its last byte"),
            I("len", "bytes", "payload length (end_seq - seq)"),
            B("retransmit", "a retransmission (counted in the flow's retransmits)"),
            B("tlp", "a tail loss probe (new data, or the last segment again)"),
            B("rto", "a retransmission in the Loss state, after a retransmission timeout"),
            I("cwnd", "packets", "snd_cwnd when it was sent"),
            I("inflight", "packets", "packets_in_flight with it counted"),
        ]),
        new(Ca, "ca", "flow-NNNN.msgpack", "a tcp_congestion_ops member was called (get_info, which ss/the sampler call, is not traced)",
        [
            .. Head,
            I("flow", "", "flow id"),
            B("receiver", "called on the flow's receiving socket (the receiving host's algorithm) rather than the sender's"),
            S("member", "the member: ssthresh, cong_avoid, set_state, cwnd_event, in_ack_event, pkts_acked, min_tso_segs, cong_control, undo_cwnd, sndbuf_expand, init, release"),
            I("arg0", "", "cong_avoid: ack; set_state: new state; cwnd_event: event (0 TX_START, 1 CWND_RESTART, 2 COMPLETE_CWR, 3 LOSS, 4 ECN_NO_CE, 5 ECN_IS_CE); in_ack_event: flags; pkts_acked: sample.pkts_acked; cong_control: ack; else 0"),
            I("arg1", "", "cong_avoid: acked; pkts_acked: sample.rtt_us; cong_control: flag; else 0"),
            I("arg2", "", "pkts_acked: sample.in_flight; cong_control: rs.delivered; else 0"),
            I("ret", "", "what ssthresh, undo_cwnd, min_tso_segs or sndbuf_expand returned; -1 for a void member"),
            I("cwnd_before", "packets", "snd_cwnd before the call"),
            I("cwnd_after", "packets", "snd_cwnd after it (the stack assigns ssthresh/undo_cwnd results afterwards)"),
            I("ssthresh_before", "packets", "snd_ssthresh before"),
            I("ssthresh_after", "packets", "snd_ssthresh after"),
            I("pacing_before", "bytes/s", "sk_pacing_rate before (-1: unlimited, ~0)"),
            I("pacing_after", "bytes/s", "sk_pacing_rate after (-1: unlimited)"),
            I("ca_state_before", "", "icsk_ca_state before"),
            I("ca_state_after", "", "icsk_ca_state after"),
        ]),
        new(Queue, "queue", LinksFile, "a link dropped or CE-marked a packet at its queue, or lost it on the wire",
        [
            .. Head,
            S("link", "the link's name (e.g. bottleneck, hop1)"),
            I("flow", "", "flow id of the packet"),
            S("event", "drop (queue), mark (CE set) or wire_loss (the loss model)"),
            I("seq", "bytes", "the packet's TCP sequence number"),
            I("ack", "bytes", "its acknowledgment number"),
            I("len", "bytes", "TCP payload length (0: a pure ACK or SYN)"),
            I("queue_packets", "packets", "queue length: as the packet found it (drop), with it (mark), behind it (wire_loss)"),
            I("queue_bytes", "bytes", "the same, in bytes"),
        ]),
        new(StructOps, "struct_ops", StructOpsFile, "a struct_ops map changed state or reported refcnt (up to the run's end)",
        [
            .. Head,
            I("map_id", "", "the map's id"),
            S("name", "the map's name"),
            S("struct", "the struct_ops type (tcp_congestion_ops)"),
            S("state", "INIT, READY, INUSE or TOBEFREE (and freed)"),
            I("refcnt", "", "the refcnt a lookup reports"),
            S("event", "what changed: created, registered, ref+, ref-, unregistered, freed, link attached/detached ..."),
        ]),
    ];

    /// <summary>The record type of <paramref name="code"/>, or null.</summary>
    public static TraceRecordType? Find(int code) => Records.FirstOrDefault(r => r.Code == code);

    /// <summary>Member names as traced, by <see cref="TcpCaMember"/>.</summary>
    public static readonly IReadOnlyList<string> CaMembers =
        ["ssthresh", "cong_avoid", "set_state", "cwnd_event", "in_ack_event", "pkts_acked", "min_tso_segs", "cong_control", "undo_cwnd", "sndbuf_expand", "init", "release"];

    /// <summary>Queue event names as traced, by <see cref="TcpQueueEvent"/>.</summary>
    public static readonly IReadOnlyList<string> QueueEvents = ["drop", "mark", "wire_loss"];

    /// <summary>schema.json: the version, the files and every record type with its fields.</summary>
    public static string ToJson()
    {
        var records = new JsonArray();
        foreach (var r in Records)
        {
            var fields = new JsonArray();
            foreach (var f in r.Fields)
            {
                fields.Add(new JsonObject
                {
                    ["name"] = f.Name, ["type"] = f.Kind.ToString().ToLowerInvariant(), ["unit"] = f.Unit, ["description"] = f.Description,
                });
            }
            records.Add(new JsonObject
            {
                ["code"] = r.Code, ["name"] = r.Name, ["file"] = r.File, ["description"] = r.Description, ["fields"] = fields,
            });
        }
        var root = new JsonObject
        {
            ["format"] = "bpfsim-trace",
            ["version"] = Version,
            ["encoding"] = "MessagePack: each file is a sequence of arrays [type, t_ns, ...], one per record, in time order",
            ["ca_states"] = new JsonArray(Enum.GetNames<TcpCaState>().Select(n => (JsonNode)n).ToArray()),
            ["records"] = records,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}

/// <summary>One record type of a trace: its code (the array's first element), name, file and fields in order.</summary>
public sealed record TraceRecordType(int Code, string Name, string File, string Description, IReadOnlyList<TraceField> Fields);

/// <summary>A field of a trace record: its name, MessagePack kind, unit and meaning.</summary>
public sealed record TraceField(string Name, TraceFieldKind Kind, string Unit, string Description);

/// <summary>What a trace field holds.</summary>
public enum TraceFieldKind
{
    Integer,
    Boolean,
    String,
}
