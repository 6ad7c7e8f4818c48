using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Tracing;
using BpfSim.Tcp.Workloads;
using MessagePack;

namespace BpfSim.Studies.Traces;

/// <summary>
/// Writes a TCP run's per-event trace (<c>--trace DIR</c>) as MessagePack: per flow <c>flow-NNNN.msgpack</c> (ack,
/// send and ca records), <c>links.msgpack</c> (queue records), <c>struct_ops.msgpack</c> and <c>schema.json</c>
/// (<see cref="TraceSchema"/>). Each record is encoded straight into its file's pooled buffer, which is written out in
/// batches: nothing is allocated per record. The per-packet records (ack, send, ca) are encoded by a
/// <see cref="TraceEncoder"/>, the rare ones (queue, struct_ops) by a <see cref="MessagePackWriter"/>; both give the
/// same bytes for the same values.
/// </summary>
public sealed class TcpTraceWriter : ITcpRunObserver, ITcpTracer
{
    private static readonly byte[][] CaMemberNames = [.. TraceSchema.CaMembers.Select(Encoding.UTF8.GetBytes)];
    private static readonly byte[][] QueueEventNames = [.. TraceSchema.QueueEvents.Select(Encoding.UTF8.GetBytes)];

    private readonly string _directory;
    private readonly List<TraceFile?> _flows = [];
    private readonly List<TcpConnection?> _connections = [];
    private readonly List<int> _active = [];
    private readonly TraceFile _links;
    private byte[][] _linkNames = [];
    private BpfSystem? _bpf;
    private Network? _network;
    private TcpStack? _stack;

    /// <summary>A writer into <paramref name="directory"/>, created if missing.</summary>
    public TcpTraceWriter(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        // A folder traced into before may hold more flows' files than this run writes: the reader (and `trace
        // convert`) takes every flow-*.msgpack, so the old ones go. Only the trace's own files are touched.
        foreach (string stale in Directory.GetFiles(directory, "flow-*.msgpack"))
        {
            File.Delete(stale);
        }
        // One file for every link: its buffer starts at full size, so the rare drop records do not grow it late in a run.
        _links = new TraceFile(System.IO.Path.Combine(directory, TraceSchema.LinksFile), 256 << 10, 256 << 10);
    }

    /// <summary>Records written so far, of every type.</summary>
    public long Records { get; private set; }

    public void Attach(TcpRunContext run) => Attach(run.Bpf, run.Network, run.Stack);

    /// <summary>
    /// Starts tracing <paramref name="stack"/> and <paramref name="network"/>, built by hand rather than by a scenario
    /// run (what <see cref="Attach(TcpRunContext)"/> does); call <see cref="Finish"/> at the end.
    /// </summary>
    public void Attach(BpfSystem bpf, Network network, TcpStack stack)
    {
        (_bpf, _network, _stack) = (bpf, network, stack);
        stack.Tracer = this;
        network.Tracer = this;
        File.WriteAllText(System.IO.Path.Combine(_directory, TraceSchema.SchemaFile), TraceSchema.ToJson());
    }

    public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
    {
        // Not on the packet path: the files of flows that have closed since go back to the pool and their handles close.
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            int id = _active[i];
            if (_connections[id]?.State == TcpConnectionState.Closed)
            {
                _flows[id]?.Dispose();
                _active.RemoveAt(i);
            }
        }
        FileOf(conn.Id);
        _connections[conn.Id] = conn;
        _active.Add(conn.Id);
    }

    public void Finish(SimTime end)
    {
        foreach (var file in _flows)
        {
            file?.Dispose();
        }
        _links.Dispose();
        WriteStructOps(_bpf!);
        _stack!.Tracer = null;
        _network!.Tracer = null;
    }

    private TraceFile FileOf(int flow)
    {
        while (_flows.Count <= flow)
        {
            _flows.Add(null);
            _connections.Add(null);
        }
        return _flows[flow] ??= new TraceFile(System.IO.Path.Combine(_directory, TraceSchema.FlowFile(flow + 1)));
    }

    private TraceFile Begin(int flow)
    {
        var file = (uint)flow < (uint)_flows.Count ? _flows[flow] ?? FileOf(flow) : FileOf(flow);
        Records++;
        return file;
    }

    public void Ack(long timeNs, int flow, uint ackSeq, in TcpSock sk, in RateSample rs)
    {
        var file = Begin(flow);
        var e = new TraceEncoder(file.BeginRecordSpan());
        e.ArrayHeader(16);
        e.UInt(TraceSchema.Ack);
        e.Int(timeNs);
        e.Int(flow + 1);
        e.UInt(ackSeq);
        e.UInt(sk.SndCwnd);
        e.UInt(sk.SndSsthresh);
        e.UInt(sk.SrttUs >> 3);
        e.UInt(sk.MdevUs >> 2);
        e.UInt(sk.PacketsInFlight);
        e.UInt((byte)sk.IcskCaState);
        e.Int(rs.Delivered);
        e.Int(rs.IntervalUs);
        e.Int(rs.Delivered > 0 && rs.IntervalUs > 0 ? (long)((double)rs.Delivered * sk.MssCache * 8e6 / rs.IntervalUs) : -1L);
        e.UInt(rs.AckedSacked);
        e.Int(rs.Losses);
        e.Bool(rs.IsAppLimited);
        file.Advance(e.Written);
    }

    public void Send(long timeNs, int flow, uint seq, uint endSeq, TcpSendFlags flags, in TcpSock sk)
    {
        var file = Begin(flow);
        var e = new TraceEncoder(file.BeginRecordSpan());
        e.ArrayHeader(11);
        e.UInt(TraceSchema.Send);
        e.Int(timeNs);
        e.Int(flow + 1);
        e.UInt(seq);
        e.UInt(endSeq);
        e.UInt(endSeq - seq);
        e.Bool((flags & TcpSendFlags.Retransmit) != 0);
        e.Bool((flags & TcpSendFlags.LossProbe) != 0);
        e.Bool((flags & TcpSendFlags.Rto) != 0);
        e.UInt(sk.SndCwnd);
        e.UInt(sk.PacketsInFlight);
        file.Advance(e.Written);
    }

    public void Queue(long timeNs, Link link, in Packet packet, TcpQueueEvent what)
    {
        if (link.Id >= _linkNames.Length)
        {
            NameLinks();
        }
        _links.BeginRecord();
        Records++;
        var w = new MessagePackWriter(_links);
        w.WriteArrayHeader(10);
        w.Write(TraceSchema.Queue);
        w.Write(timeNs);
        w.WriteString(_linkNames[link.Id]);
        w.Write(packet.Flow + 1);
        w.WriteString(QueueEventNames[(int)what]);
        w.Write(packet.Segment.Seq);
        w.Write(packet.Segment.Ack);
        w.Write(packet.PayloadBytes);
        w.Write(link.Queue.Length);
        w.Write(link.Queue.Bytes);
        w.Flush();
    }

    public void CaCall(long timeNs, in TcpSock sk, in TcpCaCall call, in TcpCaSnapshot before)
    {
        int flow = Math.Abs(sk.SocketId) - 1;
        var file = Begin(flow);
        var e = new TraceEncoder(file.BeginRecordSpan());
        e.ArrayHeader(17);
        e.UInt(TraceSchema.Ca);
        e.Int(timeNs);
        e.Int(flow + 1);
        e.Bool(sk.SocketId < 0);
        e.String(CaMemberNames[(int)call.Member]);
        e.Int(call.Arg0);
        e.Int(call.Arg1);
        e.Int(call.Arg2);
        e.Int(call.Return);
        e.UInt(before.Cwnd);
        e.UInt(sk.SndCwnd);
        e.UInt(before.Ssthresh);
        e.UInt(sk.SndSsthresh);
        e.Int(Pacing(before.PacingRate));
        e.Int(Pacing(sk.SkPacingRate));
        e.UInt((byte)before.CaState);
        e.UInt((byte)sk.IcskCaState);
        file.Advance(e.Written);
    }

    private static long Pacing(ulong rate) => rate >= long.MaxValue ? -1 : (long)rate;

    /// <summary>A link added since the last queue record (links are added while flows open): its name is encoded once.</summary>
    private void NameLinks()
    {
        var links = _network!.Links;
        _linkNames = [.. links.Select(l => Encoding.UTF8.GetBytes(l.Name))];
    }

    /// <summary>Every struct_ops map's changes up to now, in time order (a map's own changes keep their order).</summary>
    private void WriteStructOps(BpfSystem bpf)
    {
        var entries = bpf.StructOpsHistory
            .SelectMany((map, m) => map.Timeline.Select((e, i) => (Map: map, Entry: e, m, i)))
            .OrderBy(x => x.Entry.Time.Nanoseconds).ThenBy(x => x.m).ThenBy(x => x.i)
            .ToList();
        using var file = new TraceFile(System.IO.Path.Combine(_directory, TraceSchema.StructOpsFile));
        file.Flush(); // created even when empty
        foreach (var (map, e, _, _) in entries)
        {
            file.BeginRecord();
            Records++;
            var w = new MessagePackWriter(file);
            w.WriteArrayHeader(8);
            w.Write(TraceSchema.StructOps);
            w.Write(e.Time.Nanoseconds);
            w.Write(map.Id);
            w.Write(map.Name);
            w.Write(map.StructOpsType.Name);
            w.Write(e.StateName);
            w.Write(e.RefCount);
            w.Write(e.Event);
            w.Flush();
        }
    }
}
