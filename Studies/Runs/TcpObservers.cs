using BpfSim.Studies.Mahimahi;
using BpfSim.Studies.Pcap;
using BpfSim.Studies.Traces;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Runs;

/// <summary>
/// The observers a TCP run gets from its <see cref="RunSettings"/>: the per-event trace (<c>--trace</c>), the
/// pcap writers (<c>--pcap</c>) and the mm-link logs of <c>--out</c>. Made afresh for every attempt of a contained run.
/// </summary>
internal static class TcpObservers
{
    public static Func<IReadOnlyList<ITcpRunObserver>>? For(RunSettings settings, TcpScenarioSpec spec, string scenario)
    {
        _ = spec;
        var pcapDirectory = settings.OutputDirectory ?? ".";
        if (settings.TraceDirectory is null && settings.PcapLinks.Count == 0 && settings.OutputDirectory is null)
        {
            return null;
        }
        return () =>
        {
            var observers = new List<ITcpRunObserver>();
            if (settings.TraceDirectory is { } trace)
            {
                observers.Add(new TcpTraceWriter(trace));
            }
            foreach (var link in settings.PcapLinks.Distinct(StringComparer.Ordinal))
            {
                observers.Add(new LinkCapture(link, Path.Combine(pcapDirectory, link + ".pcap")));
            }
            if (settings.OutputDirectory is { } outDir)
            {
                observers.Add(new MmLinkLogs(outDir, $"bpfsim run {scenario}"));
            }
            return observers;
        };
    }
}
