using BpfSim.Core.Simulation;
using BpfSim.Studies;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>
/// Issue #14's acceptance: a Mahimahi trace drives the bottleneck and the run's delivered rate follows the trace's own
/// rate. One CUBIC flow saturates the link (a 300-packet buffer, 10 ms each way); per 500 ms bin (mm-throughput-graph's
/// default), what the bottleneck delivers is compared with what the trace offers in that bin.
/// </summary>
[Category("Tcp")]
public sealed class TraceLinkAcceptanceTests
{
    private static readonly Study s_study = new();

    private const long BinMs = 500;

    /// <summary>Adds up, per bin, the IP bytes the bottleneck delivers.</summary>
    private sealed class DeliveredBins : ITcpRunObserver, ILinkRecorder
    {
        public readonly long[] Bytes = new long[1000];

        public void Attach(TcpRunContext run) => run.Watched[0].Recorder = this;

        public void FlowOpened(TcpConnection conn, FlowSpec spec, int group)
        {
        }

        public void Finish(SimTime end)
        {
        }

        public void Arrival(Link link, in Packet packet, long nowNs)
        {
        }

        public void Drop(Link link, in Packet packet, long nowNs)
        {
        }

        public void Opportunity(Link link, long timeNs, int bytes)
        {
        }

        public void Departure(Link link, in Packet packet, long departureNs) =>
            Bytes[departureNs / (BinMs * SimTime.NanosPerMilli)] += packet.SizeBytes;

        public void Changing(Link link, long nowNs)
        {
        }
    }

    private static string Shipped(string file) => Path.Combine(AppContext.BaseDirectory, "scenarios", "traces", file);

    [TestCase("constant-12mbps.down", 20)]
    [TestCase("step-24-6mbps.down", 20)]
    [TestCase("onoff-24mbps.down", 20)]
    [TestCase("cell.down", 30)]
    public void OneSaturatingFlow_DeliversAtTheTracesRate_Per500msBin(string file, int seconds)
    {
        var trace = DeliveryTrace.Parse(File.ReadAllText(Shipped(file)), file);
        var spec = new TcpScenarioSpec
        {
            Duration = SimTime.FromSeconds(seconds),
            Network = new NetworkSpec { Mahimahi = trace, BottleneckDelay = SimTime.FromMilliseconds(10), Queue = new QueueSpec { Limit = 300 } },
            Flows = [new FlowSpec { Cc = "cubic" }],
        };
        var bins = new DeliveredBins();
        var result = new TcpScenarioRunner(spec, s_study.Factory.Create(), s_study.Catalog, [bins]).Run();

        var ratios = new List<(int Bin, double Offered, double Delivered)>();
        for (int b = 2 * (int)(1000 / BinMs); b < seconds * 1000 / BinMs; b++) // from 2 s: slow start is over
        {
            double offered = trace.OpportunitiesBetween(b * BinMs, (b + 1) * BinMs) * (double)DeliveryTrace.MtuBytes;
            ratios.Add((b, offered, bins.Bytes[b]));
        }
        string table = string.Join("; ", ratios.Select(r => $"{r.Bin * BinMs / 1000.0:0.0}s {r.Offered * 8 / 5e5:0.0}/{r.Delivered * 8 / 5e5:0.0}"));
        TestContext.Out.WriteLine($"{file}: offered/delivered Mbit/s per bin: {table}");
        foreach (var (bin, offered, delivered) in ratios)
        {
            // Never more than the trace offers (one packet may finish on bytes of the bin before), and within 3 % of it.
            Assert.That(delivered, Is.LessThanOrEqualTo(offered + DeliveryTrace.MtuBytes), $"bin at {bin * BinMs} ms: {table}");
            Assert.That(delivered, Is.GreaterThanOrEqualTo(offered * 0.97 - DeliveryTrace.MtuBytes), $"bin at {bin * BinMs} ms: {table}");
        }
        double goodput = result.Flows.Single().GoodputMbps;
        double mean = trace.OpportunitiesBetween(0, seconds * 1000) * DeliveryTrace.MtuBytes * 8 / (seconds * 1e6);
        TestContext.Out.WriteLine($"goodput {goodput:0.00} Mbit/s; the trace's mean over the run {mean:0.00} Mbit/s; utilization {result.Links[0].Utilization}");
        Assert.That(goodput, Is.GreaterThan(mean * 0.9 * 1448 / 1500), "the flow's goodput is the trace's rate less headers and the start");
    }
}
