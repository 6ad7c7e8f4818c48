using BpfSim.Core.Simulation;
using BpfSim.Tcp.Workloads;
using YamlDotNet.RepresentationModel;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// A bottleneck's <c>queue:</c> (DESIGN §5; docs/scenarios.md "Queues"): the type, then only the keys that type has,
/// named as tc(8) names the Linux qdisc's parameters; what is left out keeps the kernel's default.
/// </summary>
public sealed partial class ScenarioParser
{
    private static readonly string[] s_queueTypes = ["droptail", "red", "ecn_threshold", "codel", "fq_codel", "pie", "fq"];

    /// <summary>The keys each queue type takes besides <c>type</c>.</summary>
    private static readonly Dictionary<QueueKind, string[]> s_queueKeys = new()
    {
        [QueueKind.DropTail] = ["limit", "limit_bytes"],
        [QueueKind.Red] = ["limit", "min", "max", "p_max", "ecn"],
        [QueueKind.EcnThreshold] = ["limit", "k"],
        [QueueKind.Codel] = ["limit", "target", "interval", "ecn", "ce_threshold"],
        [QueueKind.FqCodel] = ["limit", "flows", "quantum", "target", "interval", "memory_limit", "ecn", "ce_threshold", "drop_batch"],
        [QueueKind.Pie] = ["limit", "target", "tupdate", "alpha", "beta", "ecn", "bytemode", "dq_rate_estimator"],
        [QueueKind.Fq] = ["limit", "flow_limit", "quantum", "initial_quantum", "maxrate", "pacing", "refill_delay", "low_rate_threshold",
            "horizon", "horizon_drop", "ce_threshold"],
    };

    private QueueSpec ParseQueue(YamlNode node)
    {
        var spec = new QueueSpec();
        if (node is not YamlMappingNode map)
        {
            Error(node, "queue must be a mapping such as { type: droptail, limit: 250 } or { type: fq_codel }");
            return spec;
        }
        var all = s_queueKeys.Values.SelectMany(k => k).Distinct().Prepend("type").ToArray();
        var keys = Keys(map, "queue", all);
        if (keys.TryGetValue("type", out var typeNode) && Scalar(typeNode, "type") is { } type)
        {
            QueueKind? kind = type switch
            {
                "droptail" => QueueKind.DropTail,
                "red" => QueueKind.Red,
                "ecn_threshold" => QueueKind.EcnThreshold,
                "codel" => QueueKind.Codel,
                "fq_codel" => QueueKind.FqCodel,
                "pie" => QueueKind.Pie,
                "fq" => QueueKind.Fq,
                _ => null,
            };
            if (kind is null)
            {
                Error(typeNode, $"unknown queue type '{type}' (expected {string.Join(", ", s_queueTypes)})");
            }
            else
            {
                spec = spec with { Kind = kind.Value };
            }
        }
        var allowed = s_queueKeys[spec.Kind];
        foreach (var (key, value) in keys)
        {
            if (key != "type" && !allowed.Contains(key))
            {
                var takers = s_queueKeys.Where(kv => kv.Value.Contains(key)).Select(kv => TypeName(kv.Key));
                Error(value, $"{key} applies to {string.Join(", ", takers)} queues, not {TypeName(spec.Kind)} " +
                             $"(a {TypeName(spec.Kind)} queue takes {string.Join(", ", allowed)})");
            }
        }
        int errorsBefore = _errors.Count;
        const int maxBytesPerPacket = 1 << 20; // initial_quantum: the cap the parser has always kept
        long? limitBytes = Size(keys, "limit_bytes", ScenarioLimits.MaxQueuePackets * 1500L);
        int? limit = Integer(keys, "limit", 1, ScenarioLimits.MaxQueuePackets);
        spec = spec with
        {
            Limit = limit ?? (limitBytes is not null ? 0 : QueueSpec.DefaultLimit(spec.Kind)),
            LimitBytes = limitBytes ?? 0,
            Min = Number(keys, "min", 0, ScenarioLimits.MaxQueuePackets, minExclusive: true) ?? spec.Min,
            Max = Number(keys, "max", 0, ScenarioLimits.MaxQueuePackets, minExclusive: true) ?? spec.Max,
            MaxProbability = Number(keys, "p_max", 0, 1, minExclusive: true) ?? spec.MaxProbability,
            // fq_codel turns ECN on by default (fq_codel_init); codel, pie and red leave it off.
            Ecn = Bool(keys, "ecn") ?? spec.Kind == QueueKind.FqCodel,
            K = Integer(keys, "k", 1, ScenarioLimits.MaxQueuePackets) ?? spec.K,
            Target = Time(keys, "target", positive: true),
            Interval = Time(keys, "interval", positive: true),
            CeThreshold = Time(keys, "ce_threshold", positive: true),
            Flows = Integer(keys, "flows", 1, 65536),
            Quantum = Quantum(keys, spec.Kind),
            MemoryLimit = Size(keys, "memory_limit", 1L << 31),
            DropBatch = Integer(keys, "drop_batch", 1, 65536),
            Tupdate = Time(keys, "tupdate", positive: true),
            Alpha = Integer(keys, "alpha", 0, 32),
            Beta = Integer(keys, "beta", 0, 32),
            Bytemode = Bool(keys, "bytemode") ?? false,
            DqRateEstimator = Bool(keys, "dq_rate_estimator") ?? false,
            FlowLimit = Integer(keys, "flow_limit", 1, ScenarioLimits.MaxQueuePackets),
            InitialQuantum = Integer(keys, "initial_quantum", 0, maxBytesPerPacket),
            MaxRateBps = Rate(keys, "maxrate"),
            Pacing = Bool(keys, "pacing") ?? true,
            RefillDelay = Time(keys, "refill_delay"),
            LowRateThresholdBps = Rate(keys, "low_rate_threshold"),
            Horizon = Time(keys, "horizon"),
            HorizonDrop = Bool(keys, "horizon_drop") ?? true,
        };
        // A value refused at its line would only make the checks between values misfire.
        bool valuesOk = _errors.Count == errorsBefore;
        if (valuesOk && spec.Kind == QueueKind.Red && spec.Max <= spec.Min)
        {
            Error(map, $"red needs min < max (got min {spec.Min}, max {spec.Max})");
        }
        if (valuesOk && spec.Kind == QueueKind.Red && spec.Limit < spec.Max)
        {
            Error(map, $"red needs limit >= max (got limit {spec.Limit}, max {spec.Max})");
        }
        if (valuesOk && spec.Kind == QueueKind.EcnThreshold && spec.Limit < spec.K)
        {
            Error(map, $"ecn_threshold needs limit >= k (got limit {spec.Limit}, k {spec.K})");
        }
        if (spec.Kind is QueueKind.Codel or QueueKind.FqCodel)
        {
            CheckCodelTime(keys, "target", spec.Target);
            CheckCodelTime(keys, "interval", spec.Interval);
            CheckCodelTime(keys, "ce_threshold", spec.CeThreshold);
        }
        else
        {
            // pie (TCA_PIE_TARGET, TCA_PIE_TUPDATE: net/sched/sch_pie.c) and fq (TCA_FQ_CE_THRESHOLD: net/sched/sch_fq.c)
            // take microseconds in 32 bits.
            CheckMicroseconds(keys, "target", spec.Target);
            CheckMicroseconds(keys, "tupdate", spec.Tupdate);
            CheckMicroseconds(keys, "ce_threshold", spec.CeThreshold);
        }
        return spec;
    }

    /// <summary>A time a qdisc's netlink attribute carries as a u32 of microseconds: 1 µs to about 71.6 minutes.</summary>
    private void CheckMicroseconds(Dictionary<string, YamlNode> keys, string key, SimTime? value)
    {
        const long maxNs = uint.MaxValue * 1000L;
        if (value is { } t && (t.Nanoseconds < 1000 || t.Nanoseconds > maxNs))
        {
            Error(keys[key], $"{key} must be between 1us and {new SimTime(maxNs)} (the qdisc takes it in 32-bit microseconds); got {t}");
        }
    }

    /// <summary>CoDel's times are 32-bit counts of 1.024 µs (codel_time_t): at most about 36 minutes, at least one unit.</summary>
    private void CheckCodelTime(Dictionary<string, YamlNode> keys, string key, SimTime? value)
    {
        const long unitNs = 1 << 10;
        const long maxNs = (long)int.MaxValue * unitNs / 2;
        if (value is { } t && (t.Nanoseconds < unitNs || t.Nanoseconds > maxNs))
        {
            Error(keys[key], $"{key} must be between 1.024us and {new SimTime(maxNs)} (CoDel counts time in 32-bit units of 1.024 us); got {t}");
        }
    }

    private static string TypeName(QueueKind kind) => s_queueTypes[(int)kind];

    /// <summary>
    /// A queue's <c>quantum</c> as the kernel takes it: fq_codel_change raises a value below 256 to 256 and refuses one
    /// above 2^20 (FQ_CODEL_QUANTUM_MAX); fq_change clamps any value into [256, 2^20] (net/sched/sch_fq_codel.c,
    /// net/sched/sch_fq.c).
    /// </summary>
    private int? Quantum(Dictionary<string, YamlNode> keys, QueueKind kind)
    {
        const int min = 256, max = 1 << 20;
        int? quantum = Integer(keys, "quantum", 0, kind == QueueKind.FqCodel ? max : int.MaxValue);
        return quantum is { } q ? Math.Clamp(q, min, max) : null;
    }
}
