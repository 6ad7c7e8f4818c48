using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tcp.Workloads;

/// <summary>Builds the queue discipline a <see cref="QueueSpec"/> describes, with the kernel's defaults for what it leaves out.</summary>
public static class QueueFactory
{
    /// <param name="random">The queue's own random stream (RED, PIE, fq_codel's hash key).</param>
    /// <param name="hz">The kernel's CONFIG_HZ: PIE's timer period is whole jiffies.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range (the scenario parser checks them first).</exception>
    public static QueueDiscipline Create(QueueSpec q, SimRandom random, uint hz = Jiffies.DefaultHz) => q.Kind switch
    {
        QueueKind.Red => new RedQueue(q.Min, q.Max, q.MaxProbability, q.Limit, q.Ecn, random),
        QueueKind.EcnThreshold => new EcnThresholdQueue(q.K, q.Limit),
        QueueKind.Codel => new CodelQueue(Codel(q, CodelParams.Default with { Ecn = q.Ecn }), q.Limit),
        QueueKind.FqCodel => new FqCodelQueue(new FqCodelOptions
        {
            Limit = q.Limit,
            Flows = q.Flows ?? 1024,
            Quantum = q.Quantum ?? 1514,
            MemoryLimit = q.MemoryLimit ?? 32L << 20,
            DropBatchSize = q.DropBatch ?? 64,
            Codel = Codel(q, CodelParams.Default with { Ecn = q.Ecn }),
        }, random),
        QueueKind.Pie => new PieQueue(new PieOptions
        {
            Limit = q.Limit,
            TargetNs = q.Target?.Nanoseconds ?? 15_000_000,
            TupdateNs = PieTupdateNs(q.Tupdate?.Nanoseconds ?? 15_000_000, hz),
            Alpha = q.Alpha ?? 2,
            Beta = q.Beta ?? 20,
            Ecn = q.Ecn,
            Bytemode = q.Bytemode,
            DqRateEstimator = q.DqRateEstimator,
        }, random),
        QueueKind.Fq => new FqQueue(new FqOptions
        {
            Limit = q.Limit,
            FlowLimit = q.FlowLimit ?? 100,
            Quantum = q.Quantum ?? 2 * 1514,
            InitialQuantum = q.InitialQuantum ?? 10 * 1514,
            MaxRate = q.MaxRateBps is { } max ? (ulong)(max / 8) : ulong.MaxValue,
            Pacing = q.Pacing,
            RefillDelayNs = q.RefillDelay?.Nanoseconds ?? 40_000_000,
            Hz = hz,
            LowRateThreshold = q.LowRateThresholdBps is { } low ? (ulong)(low / 8) : 550_000 / 8,
            HorizonNs = q.Horizon?.Nanoseconds ?? 10_000_000_000,
            HorizonDrop = q.HorizonDrop,
            CeThresholdNs = q.CeThreshold?.Nanoseconds ?? 1000L * uint.MaxValue,
        }),
        _ => new DropTailQueue(q.Limit, q.LimitBytes),
    };

    /// <summary>
    /// pie_init / pie_change (net/sched/sch_pie.c): tupdate is kept as usecs_to_jiffies of the microseconds given (15 ms
    /// by default), and pie_timer re-arms itself that many jiffies on: 15 ms at HZ 1000, 16 ms at HZ 250, 20 ms at 100.
    /// </summary>
    private static long PieTupdateNs(long ns, uint hz)
    {
        ulong jiffies = Math.Max(1, Jiffies.UsecsToJiffies((uint)Math.Min(ns / 1000, uint.MaxValue), hz));
        return Jiffies.TickNsecs(jiffies, hz);
    }

    private static CodelParams Codel(QueueSpec q, CodelParams p) => p with
    {
        Target = q.Target is { } t ? CodelAlgorithm.FromNs(t.Nanoseconds) : p.Target,
        Interval = q.Interval is { } i ? CodelAlgorithm.FromNs(i.Nanoseconds) : p.Interval,
        CeThreshold = q.CeThreshold is { } c ? CodelAlgorithm.FromNs(c.Nanoseconds) : p.CeThreshold,
    };
}
