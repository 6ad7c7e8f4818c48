using System.Text.Json;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using BpfSim.Studies.Output;
using BpfSim.Studies.Output.Charts;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Tests.Studies.Output;

/// <summary>The report's figures as plotly.js receives them, its smoothing, markers and network section.</summary>
[Category("Studies")]
public sealed class ReportChartTests
{
    private static JsonElement Json(ChartFigure figure) => JsonDocument.Parse(figure.ToJson()).RootElement;

    [Test]
    public void MovingAverage_OfAPerIntervalRate_IsTheMeanOfTheTrailingWindow()
    {
        // 100 ms samples: 10 at 0, then 10 at 100. A 1 s window ending at the 15th sample holds 5 + 5 of them.
        var points = Enumerable.Range(1, 20).Select(i => (T: i * 0.1, Value: i <= 10 ? 0.0 : 100.0)).ToList();
        var averaged = TcpReportFigures.MovingAverage(points, 1.0);
        Assert.That(averaged.Select(p => p.T), Is.EqualTo(points.Select(p => p.T)), "one value per sample, at the sample's time");
        Assert.That(averaged[9].Value, Is.Zero);
        Assert.That(averaged[14].Value, Is.EqualTo(50).Within(1e-9));
        Assert.That(averaged[19].Value, Is.EqualTo(100).Within(1e-9), "a full window of 100s");
        Assert.That(averaged[10].Value, Is.EqualTo(10).Within(1e-9), "one of the ten samples in the window is 100");
    }

    [Test]
    public void MovingAverage_AtTheStart_AveragesOnlyTheSamplesSoFar()
    {
        var averaged = TcpReportFigures.MovingAverage([(0.1, 10), (0.2, 30)], 1.0);
        Assert.That(averaged.Select(p => p.Value), Is.EqualTo(new[] { 10.0, 20.0 }));
    }

    [TestCase(668, 50, 60)]
    [TestCase(59.9, 50, null)]
    [TestCase(668, 0, null)]
    public void RateAxisTop_ClipsOnlyWhenSamplesPassTheBottleneck(double peak, double bottleneck, double? expected) =>
        Assert.That(TcpReportFigures.RateAxisTop(peak, bottleneck), Is.EqualTo(expected).Within(1e-9));

    [Test]
    public void Figure_Json_HasPlotlysSchema_HiddenSeriesLegendOnly_GapsAsNull_AndNoRawAngleBrackets()
    {
        var figure = new ChartFigure("T </script>", new ChartAxis("time (s)") { Min = 0, Max = 30 }, new ChartAxis("goodput (Mbit/s)") { Min = 0, Max = 60 })
            .Add(new ChartSeries("flow 1 <b>", [0, 1, 2], [1, double.NaN, 3], "#1f77b4") { Hidden = true, Group = "raw", Dotted = true })
            .Mark([new ChartMarker(10, "linked", "map 1", ReportPalette.Attach)]);
        string json = figure.ToJson();
        Assert.That(json, Does.Not.Contain("<").And.Not.Contain(">"), "safe inside a script element");
        var root = Json(figure);
        var trace = root.GetProperty("data")[0];
        Assert.That(trace.GetProperty("visible").GetString(), Is.EqualTo("legendonly"));
        Assert.That(trace.GetProperty("legendgroup").GetString(), Is.EqualTo("raw"));
        Assert.That(trace.GetProperty("y")[1].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(trace.GetProperty("line").GetProperty("dash").GetString(), Is.EqualTo("dot"));
        var layout = root.GetProperty("layout");
        Assert.That(layout.GetProperty("yaxis").GetProperty("range").EnumerateArray().Select(e => e.GetDouble()), Is.EqualTo(new[] { 0.0, 60 }));
        Assert.That(layout.GetProperty("xaxis").GetProperty("title").GetProperty("text").GetString(), Is.EqualTo("time (s)"));
        var shape = layout.GetProperty("shapes")[0];
        Assert.That((shape.GetProperty("x0").GetDouble(), shape.GetProperty("yref").GetString()), Is.EqualTo((10.0, "paper")), "a vertical line across the plot");
        Assert.That(layout.GetProperty("annotations")[0].GetProperty("text").GetString(), Is.EqualTo("linked"));
    }

    [Test]
    public void Figure_WithNoSeries_SaysNoData()
    {
        var figure = new ChartFigure("empty", new ChartAxis("x"), new ChartAxis("y")).Add(new ChartSeries("s", [], [], "#000"));
        Assert.That(figure.Series, Is.Empty);
        Assert.That(Json(figure).GetProperty("layout").GetProperty("annotations")[0].GetProperty("text").GetString(), Is.EqualTo("no data"));
    }

    [Test]
    public void Pantheon_ReversesTheDelayAxis_OnePointPerAlgorithm()
    {
        var root = Json(ComparisonFigures.Pantheon([new AlgorithmPoint("cubic", 90, 45), new AlgorithmPoint("bbr", 95, 22)]));
        Assert.That(root.GetProperty("layout").GetProperty("xaxis").GetProperty("autorange").GetString(), Is.EqualTo("reversed"));
        var data = root.GetProperty("data");
        Assert.That(data.GetArrayLength(), Is.EqualTo(2));
        Assert.That((data[1].GetProperty("x")[0].GetDouble(), data[1].GetProperty("y")[0].GetDouble(), data[1].GetProperty("mode").GetString()),
            Is.EqualTo((22.0, 95.0, "markers")));
        Assert.That(data[0].GetProperty("marker").GetProperty("color").GetString(), Is.Not.EqualTo(data[1].GetProperty("marker").GetProperty("color").GetString()));
    }

    [Test]
    public void FctCdf_IsTheEmpiricalDistribution_SortedAndEndingAtOne()
    {
        var trace = Json(ComparisonFigures.FctCdf([new FctSamples("100KB", [30, 10, 20, 40])])).GetProperty("data")[0];
        Assert.That(trace.GetProperty("x").EnumerateArray().Select(e => e.GetDouble()), Is.EqualTo(new[] { 10.0, 20, 30, 40 }));
        Assert.That(trace.GetProperty("y").EnumerateArray().Select(e => e.GetDouble()), Is.EqualTo(new[] { 0.25, 0.5, 0.75, 1 }));
        Assert.That(trace.GetProperty("line").GetProperty("shape").GetString(), Is.EqualTo("hv"));
    }

    [Test]
    public void FlowColours_AreFixedByFlowId()
    {
        Assert.That(ReportPalette.Flow(1), Is.EqualTo("#1f77b4"));
        Assert.That(Enumerable.Range(1, ReportPalette.FlowColours).Select(ReportPalette.Flow).Distinct().Count(), Is.EqualTo(ReportPalette.FlowColours));
        Assert.That(ReportPalette.Flow(ReportPalette.FlowColours + 3), Is.EqualTo(ReportPalette.Flow(3)));
    }

    private static StructOpsTimelineEntry At(double s, string e, long refcnt = 1) =>
        new(SimTime.FromMilliseconds((long)(s * 1000)), StructOpsState.Ready, refcnt, e);

    [Test]
    public void Markers_ALinkUpdateIsOneMarker_RefChangesAreNone_AFaultIsRed()
    {
        var v1 = new StructOpsSummary(1, "cc", "tcp_congestion_ops", [], 3, 0, true,
            [At(0, "created"), At(0, "linked"), At(0, "ref+", 2), At(10, "unlinked (update)"), At(12, "ref-")]);
        var v2 = new StructOpsSummary(2, "cc", "tcp_congestion_ops", [], 3, 0, true, [At(10, "created"), At(10, "linked (update)"), At(25, "unlinked")]);
        var fault = new ConsumerFault("bad", 3, "cong_avoid", ConsumerFaultKind.Exception, SimTime.FromSeconds(25), "boom");
        var markers = ReportMarkers.For([v1, v2], [fault]);
        Assert.That(markers.Select(m => m.X), Is.EqualTo(new[] { 0.0, 10, 25 }));
        Assert.That(markers[0].Label, Is.EqualTo("linked cc #1"));
        Assert.That((markers[1].Label, markers[1].Colour), Is.EqualTo(("link updated to cc #2", ReportPalette.Update)));
        Assert.That(markers[2].Label, Is.EqualTo("unlinked cc #2 · bad ejected"), "events at one instant share a marker");
        Assert.That(markers[2].Colour, Is.EqualTo(ReportPalette.Fault));
    }

    [Test]
    public void BaseRtt_IsTwiceThePathsPropagationDelay()
    {
        var dumbbell = new NetworkSpec { BottleneckDelay = SimTime.FromMilliseconds(10), AccessDelay = SimTime.FromMilliseconds(1) };
        Assert.That(ReportNetwork.BaseRtt(dumbbell, new FlowSpec()), Is.EqualTo(SimTime.FromMilliseconds(24)));
        // A group's access delay is its senders'; receivers keep the network's.
        Assert.That(ReportNetwork.BaseRtt(dumbbell, new FlowSpec { AccessDelay = SimTime.FromMilliseconds(20) }), Is.EqualTo(SimTime.FromMilliseconds(62)));
        var lot = dumbbell with { Topology = TopologyKind.ParkingLot, Hops = 3 };
        Assert.That(ReportNetwork.BaseRtt(lot, new FlowSpec { FromRouter = 1, ToRouter = 2 }), Is.EqualTo(SimTime.FromMilliseconds(24)));
        Assert.That(ReportNetwork.BaseRtt(lot, new FlowSpec()), Is.EqualTo(SimTime.FromMilliseconds(64)));
    }
}
