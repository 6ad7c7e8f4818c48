using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Mahimahi;

/// <summary>
/// The mm-link logs of a TCP run (<c>--out DIR</c>): DIR/LINK.mmlog (<see cref="MmLinkLog"/>) for each link the run
/// reports on (the bottleneck, a parking lot's hops) and each link that follows a Mahimahi trace (so
/// <c>mahimahi_up</c>'s ACK direction too).
/// </summary>
public sealed class MmLinkLogs(string directory, string commandLine) : ITcpRunObserver
{
    private readonly List<(Link Link, MmLinkLog Log)> _logs = [];

    /// <summary>The files written (after the run).</summary>
    public IReadOnlyList<string> Files => _files;

    private readonly List<string> _files = [];

    /// <summary>
    /// The log files a run of <paramref name="spec"/> writes, by name (what <see cref="Attach"/> picks: the reported
    /// links and the trace-driven ones).
    /// </summary>
    public static IReadOnlyList<string> FileNames(TcpScenarioSpec spec)
    {
        var n = spec.Network;
        var names = n.Topology == TopologyKind.ParkingLot ? Enumerable.Range(0, n.Hops).Select(h => $"hop{h}").ToList() : ["bottleneck"];
        var reverse = n.MahimahiUp is null ? [] : names.Select(l => l + "_rev").ToList();
        return names.Concat(reverse).Select(l => l + ".mmlog").ToList();
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
        foreach (var link in run.Network.Links.Where(l => run.Watched.Contains(l) || l.Trace is not null))
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
