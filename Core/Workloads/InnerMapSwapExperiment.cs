using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Cpus;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads;

/// <summary>
/// Runs the inner-map swap experiment (see <see cref="InnerMapSwapOptions"/>). Each program invocation looks up
/// slot 0 of the outer map, counts in the inner map, keeps running for <see cref="InnerMapSwapOptions.ProgramRunTime"/>
/// and counts again before it returns, so a map freed under a running program is caught as a use-after-free.
/// </summary>
public sealed class InnerMapSwapExperiment : IEventHandler
{
    private const int KindProgramStart = 0;
    private const int KindProgramEnd = 1;
    private const int KindSwapper = 2;

    private readonly InnerMapSwapOptions _options;
    private readonly BpfSystem _bpf;
    private readonly HandlerId _handler;
    private readonly SimRandom[] _cpuRandom;
    private readonly ProgramScope[] _running;
    private readonly BpfMap?[] _held;
    private readonly int _outerFd;
    private readonly int _templateFd;
    private readonly List<BpfMap> _retired = [];
    private bool _stopPrograms;
    private long _programRuns;
    private int _unsafeReturns;
    private SimTime _swapDone;

    private InnerMapSwapExperiment(InnerMapSwapOptions options)
    {
        options.Validate();
        _options = options;
        _bpf = new BpfSystem(new BpfSystemOptions
        {
            Cpus = options.Cpus,
            InnerMapWait = options.Wait,
            Rcu = new RcuOptions { TickPeriod = options.RcuTick },
        });
        _handler = _bpf.Simulator.Register(this);
        _cpuRandom = Enumerable.Range(0, options.Cpus).Select(c => SimRandom.For(options.Seed, $"cpu{c}")).ToArray();
        _running = new ProgramScope[options.Cpus];
        _held = new BpfMap?[options.Cpus];
        _templateFd = CreateInner();
        _bpf.MapCreate(new MapSpec { Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 1, InnerMapFd = _templateFd, Name = "outer" },
            out _outerFd).ThrowIfFailed();
        Install(_templateFd);
        // The outer map now holds the first inner map; its template meta is a copy, so the fd can go.
        _bpf.Close(_templateFd);
    }

    /// <summary>Runs one configuration to completion.</summary>
    public static InnerMapSwapResult Run(InnerMapSwapOptions options) => new InnerMapSwapExperiment(options).Execute();

    private int CreateInner()
    {
        _bpf.MapCreate(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Name = "inner" }, out int fd)
            .ThrowIfFailed();
        return fd;
    }

    private void Install(int innerFd)
    {
        Span<byte> key = stackalloc byte[4];
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(value, innerFd);
        _bpf.MapUpdateElem(_outerFd, key, value).ThrowIfFailed();
    }

    private InnerMapSwapResult Execute()
    {
        var sim = _bpf.Simulator;
        // Set-up may have waited for a grace period already; the experiment starts now.
        var swapStart = sim.Now + _options.SwapStart;
        for (int cpu = 0; cpu < _options.Cpus; cpu++)
        {
            sim.Schedule(NextGap(cpu), _handler, KindProgramStart, cpu);
        }
        sim.Schedule(swapStart, _handler, KindSwapper);
        // Setting the template up waited too; count only what the swaps cost.
        long gpBefore = _bpf.MapInMap.GracePeriodsWaited;
        var blockedBefore = _bpf.MapInMap.TimeBlocked;
        while (_swapDone == default && sim.Step())
        {
        }
        _stopPrograms = true;
        sim.RunUntil(SimTime.MaxValue);
        long gps = _bpf.MapInMap.GracePeriodsWaited - gpBefore;
        var blocked = _bpf.MapInMap.TimeBlocked - blockedBefore;

        // Tear down: the outer map's last reference frees the last inner map too.
        _bpf.Close(_outerFd);
        sim.RunUntil(SimTime.MaxValue);
        int leaked = _retired.Count(m => !m.IsFreed);
        return new InnerMapSwapResult
        {
            Wait = _options.Wait,
            Swaps = _options.Swaps,
            GracePeriods = gps,
            SwapTimeMs = (_swapDone - swapStart).TotalMilliseconds,
            BlockedMs = blocked.TotalMilliseconds,
            UnsafeReturns = _unsafeReturns,
            BoundExpirations = _bpf.MapInMap.BoundExpirations,
            ProgramRuns = _programRuns,
            Events = sim.EventsDispatched,
            MapsFreed = _bpf.FreedObjects,
            MapsLeaked = leaked,
        };
    }

    private SimTime NextGap(int cpu) =>
        _bpf.Simulator.Now + new SimTime(1 + (long)_cpuRandom[cpu].NextExponential(_options.MeanProgramGap.Nanoseconds));

    void IEventHandler.OnEvent(int kind, long arg)
    {
        switch (kind)
        {
            case KindProgramStart:
                ProgramStart((int)arg);
                break;
            case KindProgramEnd:
                ProgramEnd((int)arg);
                break;
            case KindSwapper:
                SwapAll();
                break;
        }
    }

    private void ProgramStart(int cpu)
    {
        if (_stopPrograms)
        {
            return;
        }
        var scope = _bpf.EnterProgram(cpu);
        Span<byte> key = stackalloc byte[4];
        var inner = OuterMap.LookupInner(key);
        Count(inner);
        _held[cpu] = inner;
        _running[cpu] = scope;
        scope.Pause();
        _bpf.Simulator.ScheduleIn(_options.ProgramRunTime, _handler, KindProgramEnd, cpu);
        _programRuns++;
    }

    private void ProgramEnd(int cpu)
    {
        var scope = _running[cpu];
        scope.Resume();
        Count(_held[cpu]);
        _held[cpu] = null;
        scope.Dispose();
        _bpf.Simulator.Schedule(NextGap(cpu), _handler, KindProgramStart, cpu);
    }

    private static void Count(BpfMap? inner)
    {
        if (inner is null)
        {
            return;
        }
        Span<byte> key = stackalloc byte[4];
        var counter = inner.Lookup(key);
        BinaryPrimitives.WriteUInt64LittleEndian(counter, BinaryPrimitives.ReadUInt64LittleEndian(counter) + 1);
    }

    private BpfMap OuterMap
    {
        get
        {
            _bpf.GetMap(_outerFd, out var outer).ThrowIfFailed();
            return outer;
        }
    }

    /// <summary>User space: swap in fresh inner maps one after another, as a control plane rolling out new state.</summary>
    private void SwapAll()
    {
        Span<byte> key = stackalloc byte[4];
        for (int i = 0; i < _options.Swaps; i++)
        {
            var old = CurrentInner(key);
            int fd = CreateInner();
            Install(fd);
            _bpf.Close(fd);
            _retired.Add(old);
            if (_options.Wait != InnerMapReplaceWait.BatchSynchronize)
            {
                CheckUnused(old);
            }
        }
        if (_options.Wait == InnerMapReplaceWait.BatchSynchronize)
        {
            _bpf.Synchronize().ThrowIfFailed();
            foreach (var old in _retired)
            {
                CheckUnused(old);
            }
        }
        _swapDone = _bpf.Simulator.Now;
    }

    private BpfMap CurrentInner(ReadOnlySpan<byte> key)
    {
        Span<byte> id = stackalloc byte[4];
        _bpf.MapLookupElem(_outerFd, key, id).ThrowIfFailed();
        _bpf.Objects.TryGet(BpfObjectKind.Map, BinaryPrimitives.ReadUInt32LittleEndian(id), out var inner);
        return (BpfMap)inner;
    }

    /// <summary>After the wait returned, user space assumes no program uses <paramref name="old"/>: check it.</summary>
    private void CheckUnused(BpfMap old)
    {
        if (_held.Any(h => ReferenceEquals(h, old)))
        {
            _unsafeReturns++;
        }
    }
}
