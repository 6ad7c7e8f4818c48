using System.Diagnostics;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The packet source at the hook, and what every packet is checked and costed for.</summary>
internal sealed partial class XdpChainRun
{
    private const int Buckets = 100;
    private const int Headroom = 256;

    private readonly ChainPacketObserver _observer;
    private readonly ChainOrderChecker _checker;
    private readonly byte[] _frame;
    private readonly long[] _byKind = new long[Enum.GetValues<ViolationKind>().Length];
    private readonly long[] _buckets = new long[Buckets + 1];
    private readonly long _bucketNs;
    private readonly List<ChainViolation> _listed = [];
    private List<(ViolationKind Kind, int Component)>? _details;
    private bool _stopPackets;
    private long _packets;
    private long _violations;
    private long _violatedPackets;
    private double _costNs;
    private long _runs;
    private long _wallTicks;

    /// <summary>A 64-byte Ethernet/IPv4/UDP frame behind XDP headroom; programs here do not read it.</summary>
    private static byte[] BuildFrame()
    {
        var frame = new byte[Headroom + 64];
        var p = frame.AsSpan(Headroom);
        p[12] = 0x08; // ethertype IPv4
        p[14] = 0x45; // version 4, IHL 5
        p[23] = 17;   // UDP
        return frame;
    }

    private void OnPacket()
    {
        if (_stopPackets)
        {
            return;
        }
        var now = _bpf.Simulator.Now;
        ProcessPacket(now);
        var next = now + new SimTime(Math.Max(1, SimTime.NanosPerSecond / _scenario.PacketRate));
        if (next < _end)
        {
            _bpf.Simulator.Schedule(next, _handler, KindPacket);
        }
    }

    /// <summary>One packet through the hook, observed, costed and checked: the path that must not allocate.</summary>
    internal void ProcessPacket(SimTime now)
    {
        _observer.Reset();
        var ctx = new PacketContext
        {
            Frame = _frame,
            Data = Headroom,
            DataMeta = Headroom,
            DataEnd = Headroom + 64,
            IngressIfindex = _device.Ifindex,
            NowNs = now.Nanoseconds,
        };
        long t0 = Stopwatch.GetTimestamp();
        using (_bpf.EnterProgram(0))
        {
            if (_design == XdpChainDesign.Mprog)
            {
                _device.TcxIngress.Run(ref ctx);
            }
            else
            {
                _device.Xdp.Run(ref ctx);
            }
        }
        _wallTicks += Stopwatch.GetTimestamp() - t0;
        _packets++;
        _runs += _observer.ComponentRuns + _observer.OtherRuns;
        _costNs += _scenario.Cost.PacketNs(_design, _observer.ComponentRuns, _observer.ComponentBodyNs, _observer.OtherRuns, _observer.ChainLookups);
        int v = _checker.Check(_observer.Seen, _expected, _byKind);
        if (v > 0)
        {
            Record(now, v);
        }
    }

    private void Record(SimTime now, int violations)
    {
        _violations += violations;
        _violatedPackets++;
        _buckets[Math.Min(Buckets, (now - _start).Nanoseconds / _bucketNs)] += violations;
        if (_listed.Count >= _scenario.MaxListedViolations)
        {
            return;
        }
        // Rare: re-check with details to list them.
        _details ??= [];
        _details.Clear();
        Span<long> scratch = stackalloc long[_byKind.Length];
        _checker.Check(_observer.Seen, _expected, scratch, _details);
        string seen = string.Join(" ", _observer.Seen.ToArray().Select(s => _scenario.Components[s.Component].ProgramName(s.Version)));
        foreach (var (kind, component) in _details)
        {
            if (_listed.Count < _scenario.MaxListedViolations)
            {
                _listed.Add(new ChainViolation((now - _start).TotalMilliseconds, _packets, kind, _scenario.Components[component].Name,
                    seen.Length == 0 ? "-" : seen));
            }
        }
    }

    /// <summary>The program names one packet goes through now (outside the measured stream), for tests.</summary>
    public IReadOnlyList<string> PathNow()
    {
        var saved = _bpf.PacketObserver;
        _bpf.PacketObserver = _observer;
        _observer.Reset();
        var ctx = new PacketContext { Frame = _frame, Data = Headroom, DataMeta = Headroom, DataEnd = Headroom + 64, IngressIfindex = _device.Ifindex };
        using (_bpf.EnterProgram(0))
        {
            if (_design == XdpChainDesign.Mprog)
            {
                _device.TcxIngress.Run(ref ctx);
            }
            else
            {
                _device.Xdp.Run(ref ctx);
            }
        }
        _bpf.PacketObserver = saved;
        return _observer.Seen.ToArray().Select(s => _scenario.Components[s.Component].ProgramName(s.Version)).ToList();
    }

    private XdpChainResult Result()
    {
        var sorted = _updateMs.Order().ToArray();
        long packets = Math.Max(1, _packets);
        return new XdpChainResult
        {
            Design = _design.Name(),
            Packets = _packets,
            Violations = _violations,
            ViolatedPackets = _violatedPackets,
            Skipped = _byKind[(int)ViolationKind.Skipped],
            Duplicate = _byKind[(int)ViolationKind.Duplicate],
            OutOfOrder = _byKind[(int)ViolationKind.OutOfOrder],
            Stale = _byKind[(int)ViolationKind.Stale],
            NsPerPacket = Math.Round(_costNs / packets, 3),
            RunsPerPacket = Math.Round(_runs / (double)packets, 3),
            Updates = _updates,
            FailedUpdates = _failedUpdates,
            UpdateMsMean = sorted.Length == 0 ? 0 : Math.Round(sorted.Average(), 4),
            UpdateMsP50 = Percentile(sorted, 0.50),
            UpdateMsP99 = Percentile(sorted, 0.99),
            Retries = _actors.Sum(a => a.Retries),
            Syscalls = _actors.Sum(a => a.Syscalls),
            Listed = _listed,
            Failures = _failures,
            WallNsPerPacket = Math.Round(_wallTicks * (1e9 / Stopwatch.Frequency) / packets, 1),
            ViolationsOverTime = _buckets[..Buckets],
            BucketMs = _bucketNs / 1e6,
            UpdateLatenciesMs = _updateMs,
        };
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }
        int rank = (int)Math.Ceiling(p * sorted.Length);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)], 4);
    }
}
