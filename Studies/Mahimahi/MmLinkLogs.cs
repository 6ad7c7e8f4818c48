using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Mahimahi;

/// <summary>
/// The mm-link logs of a TCP run (<c>--out DIR</c>): DIR/LINK.mmlog (<see cref="MmLinkLog"/>) for each link whose
/// capacity varies — one that follows a Mahimahi trace (<c>mahimahi</c>, <c>mahimahi_up</c>), and the reported links
/// (the bottleneck, a parking lot's hops) when the scenario has <c>changes</c>. A fixed-rate link that never changes
/// gets none: its capacity is a flat line, and its log would take some 6 MB per 30 s at 100 Mbit/s in every run and
/// every run of a sweep.
/// </summary>
public sealed class MmLinkLogs(string directory, string commandLine) : ITcpRunObserver
{
    private readonly List<(Link Link, MmLinkLog Log)> _logs = [];

    /// <summary>The files written (after the run).</summary>
    public IReadOnlyList<string> Files => _files;

    private readonly List<string> _files = [];

    /// <summary>The log files a run of <paramref name="spec"/> writes, by name (the links <see cref="Attach"/> picks).</summary>
    public static IReadOnlyList<string> FileNames(TcpScenarioSpec spec)
    {
        var n = spec.Network;
        var names = n.Topology == TopologyKind.ParkingLot ? Enumerable.Range(0, n.Hops).Select(h => $"hop{h}").ToList() : ["bottleneck"];
        var forward = n.Mahimahi is not null || n.Changes.Count > 0 ? names : [];
        var reverse = n.MahimahiUp is null ? [] : names.Select(l => l + "_rev").ToList();
        return forward.Concat(reverse).Select(l => l + ".mmlog").ToList();
    }

    public void Attach(TcpRunContext run)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // the run's other outputs go to the same folder and report it (bpfsim run: --out DIR: …)
        }
        bool changes = run.Spec.Network.Changes.Count > 0;
        foreach (var link in run.Network.Links.Where(l => l.Trace is not null || (changes && run.Watched.Contains(l))))
        {
            string name = link.Name + ".mmlog";
            string path = Path.Combine(directory, name);
            StreamWriter writer;
            try
            {
                writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false), bufferSize: 1 << 16);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            var log = new MmLinkLog(writer, run.Simulator, link, name, commandLine, QueueText(link, run.Spec));
            link.Recorder = log;
            _logs.Add((link, log));
            _files.Add(path);
        }
    }

    public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
    {
    }

    public void Finish(SimTime end)
    {
        foreach (var (link, log) in _logs)
        {
            log.Finish(end.Nanoseconds);
            link.Recorder = null; // the run goes on a little after its end (frees); the log stops here
            log.Dispose();
        }
    }

    /// <summary>mm-link's <c># queue:</c> line for the queue types bpfsim has (<c>droptail [packets=250]</c>).</summary>
    private static string QueueText(Link link, TcpScenarioSpec spec) => link.Queue switch
    {
        DropTailQueue d => "droptail [" + string.Join(", ",
            new[] { d.LimitPackets > 0 ? $"packets={d.LimitPackets}" : null, d.LimitBytes > 0 ? $"bytes={d.LimitBytes}" : null }
                .Where(s => s is not null)) + "]",
        RedQueue => $"red [limit={spec.Network.Queue.Limit}, min={spec.Network.Queue.Min}, max={spec.Network.Queue.Max}]",
        EcnThresholdQueue => $"ecn_threshold [limit={spec.Network.Queue.Limit}, k={spec.Network.Queue.K}]",
        var q => q.GetType().Name,
    };
}
