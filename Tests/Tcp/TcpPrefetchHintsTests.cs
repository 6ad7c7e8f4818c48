using BpfSim.Core.Simulation;
using BpfSim.Tcp.Metrics;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// The stack turns the simulator's prefetch hints on from a few hundred connections (their state no longer fits the
/// caches); every flow's outcome must be the same with them off. With hints on, the network and the stack are asked
/// about arrivals at sinks, finished transmissions and timers at every distance, so this runs those paths too.
/// </summary>
[Category("Tcp")]
public sealed class TcpPrefetchHintsTests
{
    private static TcpScenario Run(int flows, bool forceHintsOff)
    {
        var s = new TcpScenario(new DumbbellOptions
        {
            BottleneckRateBps = 300_000_000,
            BottleneckQueue = _ => new DropTailQueue(600),
        });
        s.Stack.RecordOneWayDelay(new MeasureWindow(SimTime.Zero, SimTime.MaxValue));
        for (int i = 0; i < flows; i++)
        {
            s.Flow("cubic", startS: i * 0.0005);
        }
        if (forceHintsOff)
        {
            s.Sim.PrefetchHints = false;
        }
        s.RunFor(0.4);
        return s;
    }

    [Test]
    public void ManyConnections_TurnTheHintsOn_AndEveryFlowEndsTheSameWithout()
    {
        Assert.That(Run(255, forceHintsOff: false).Sim.PrefetchHints, Is.False, "255 connections fit the caches");
        var hinted = Run(300, forceHintsOff: false);
        var plain = Run(300, forceHintsOff: true);
        Assert.That(hinted.Sim.PrefetchHints, Is.True);
        Assert.That(hinted.Sim.EventsDispatched, Is.EqualTo(plain.Sim.EventsDispatched));
        var flows = hinted.Stack.Connections.Select(c => (c.Stats.BytesAcked, c.Stats.Retransmits, c.Stats.RttSumMs, c.SndUna));
        var again = plain.Stack.Connections.Select(c => (c.Stats.BytesAcked, c.Stats.Retransmits, c.Stats.RttSumMs, c.SndUna));
        Assert.That(flows, Is.EqualTo(again));
        // One-way delays (null for a flow whose data has not arrived yet): the runs kept in the connections too.
        var delays = hinted.Stack.Connections.Select(c => c.Stats.OneWayDelay is { } h ? (h.Count, h.Sum, h.Quantile(0.99)) : default);
        var delaysAgain = plain.Stack.Connections.Select(c => c.Stats.OneWayDelay is { } h ? (h.Count, h.Sum, h.Quantile(0.99)) : default);
        Assert.That(delays, Is.EqualTo(delaysAgain));
        Assert.That(hinted.Stack.Connections.Count(c => c.Stats.OneWayDelay is { Count: > 10 }), Is.GreaterThan(150));
        Assert.That(hinted.Stack.Connections.Sum(c => c.Stats.BytesAcked), Is.GreaterThan(10_000_000), "the flows moved data");
    }
}
