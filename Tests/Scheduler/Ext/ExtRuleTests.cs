using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>One test per rule of kernel/sched/ext.c (6.12) the ext class reproduces.</summary>
public class ExtRuleTests
{
    private static (ExtRig Rig, ProbeScheduler S) Load(ProbeScheduler s, int cpus = 1, int tasks = 2, long sleepNs = -2)
    {
        var rig = new ExtRig(cpus);
        for (int i = 0; i < tasks; i++)
        {
            rig.Fork(comm: $"t{i}");
        }
        rig.LoadOk(s);
        return (rig, s);
    }

    private static void ExpectError(ProbeScheduler s, ScxExitKind kind, string message)
    {
        Assert.That(s.ExitInfo, Is.Not.Null, "the scheduler should have exited");
        Assert.That(s.ExitInfo!.Kind, Is.EqualTo(kind));
        Assert.That(s.ExitInfo.Message, Is.EqualTo(message));
    }

    [Test]
    public void DirectDispatchFromSelectCpu_SkipsEnqueue_LocalIsTheSelectedCpu()
    {
        var rig = new ExtRig(cpus: 2);
        rig.RunNs = 1_000_000;
        rig.SleepNs = 5_000_000;
        int t = rig.Fork(comm: "sleeper", workNs: 1_000_000);
        var s = new ProbeScheduler
        {
            OnSelect = (ref TaskStruct p, int prev, ulong wf) =>
            {
                Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceDfl, 0);
                return 1;
            },
        };
        rig.LoadOk(s);
        rig.RunMs(100);
        Assert.That(s.Calls.Count(c => c.StartsWith("select_cpu", StringComparison.Ordinal)), Is.GreaterThan(3));
        Assert.That(s.Calls.Count(c => c.StartsWith("enqueue", StringComparison.Ordinal)), Is.LessThanOrEqualTo(1), "only the enable-time enqueue");
        Assert.That(rig.Task(t).Cpu, Is.EqualTo(1));
        Assert.That(s.ExitInfo, Is.Null);
    }

    [Test]
    public void WakeupOfAPinnedTask_SkipsSelectCpu_AndEnqueueSeesNoCpuSelected()
    {
        // select_task_rq (core.c) calls the class's select_task_rq only when nr_cpus_allowed > 1, and only then sets
        // WF_RQ_SELECTED, which ttwu_do_activate turns into ENQUEUE_RQ_SELECTED = SCX_ENQ_CPU_SELECTED.
        var rig = new ExtRig(cpus: 2);
        rig.RunNs = 1_000_000;
        rig.SleepNs = 5_000_000;
        var only1 = new Cpumask();
        only1.Set(1);
        rig.Fork(comm: "pinned", workNs: 1_000_000, cpus: only1);
        var enqFlags = new List<ulong>();
        var s = new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                enqFlags.Add(f);
                Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, f);
            },
        };
        rig.LoadOk(s);
        rig.RunMs(100);
        Assert.That(s.Calls.Count(c => c.StartsWith("select_cpu", StringComparison.Ordinal)), Is.Zero);
        Assert.That(enqFlags.Count(f => (f & ScxEnqFlags.Wakeup) != 0), Is.GreaterThan(3));
        Assert.That(enqFlags.Where(f => (f & ScxEnqFlags.CpuSelected) != 0), Is.Empty);
        Assert.That(s.ExitInfo, Is.Null);
    }

    [Test]
    public void WakeupOfAnUnpinnedTask_CallsSelectCpu_AndEnqueueSeesCpuSelected()
    {
        var rig = new ExtRig(cpus: 2);
        rig.RunNs = 1_000_000;
        rig.SleepNs = 5_000_000;
        rig.Fork(comm: "free", workNs: 1_000_000);
        var enqFlags = new List<ulong>();
        var s = new ProbeScheduler
        {
            OnSelect = (ref TaskStruct p, int prev, ulong wf) => prev,
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                enqFlags.Add(f);
                Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, f);
            },
        };
        rig.LoadOk(s);
        rig.RunMs(100);
        var wakeups = enqFlags.Where(f => (f & ScxEnqFlags.Wakeup) != 0).ToList();
        Assert.That(wakeups, Has.Count.GreaterThan(3));
        Assert.That(wakeups, Has.All.Matches<ulong>(f => (f & ScxEnqFlags.CpuSelected) != 0));
        Assert.That(s.ExitInfo, Is.Null);
    }

    [Test]
    public void AffinityChangeOfAQueuedTask_MovesItWithoutSelectCpu()
    {
        // __set_cpus_allowed_ptr_locked picks the destination with cpumask_any_and_distribute and move_queued_task
        // re-enqueues there: select_task_rq (and so ops.select_cpu) is not part of an affinity change.
        var rig = new ExtRig(cpus: 4);
        var only0 = new Cpumask();
        only0.Set(0);
        int a = rig.Fork(comm: "a", cpus: only0);
        int b = rig.Fork(comm: "b", cpus: only0);
        var s = new ProbeScheduler
        {
            OnSelect = (ref TaskStruct p, int prev, ulong wf) => prev,
            OnEnqueue = (ref TaskStruct p, ulong f) => Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, f),
        };
        rig.LoadOk(s);
        rig.RunMs(1);
        int queued = rig.Kernel.Current(0) == a ? b : a;
        var two = new Cpumask();
        two.Set(2);
        two.Set(3);
        rig.Kernel.SetCpusAllowed(queued, two);
        Assert.That(s.Calls.Count(c => c.StartsWith("select_cpu", StringComparison.Ordinal)), Is.Zero);
        Assert.That(rig.Task(queued).Cpu, Is.AnyOf(2, 3));
        rig.RunMs(5);
        Assert.That(s.ExitInfo, Is.Null);
    }

    [Test]
    public void KickWhileBypassing_IsDropped()
    {
        // scx_bpf_kick_cpu: "don't kick while bypassing"; ops.enable runs in scx_ops_enable's bypass section.
        var rig = new ExtRig(cpus: 2);
        rig.Fork(comm: "a");
        var s = new ProbeScheduler { OnEnable = (ref TaskStruct p) => Scx.KickCpu(1, 0) };
        rig.LoadOk(s);
        rig.RunMs(1);
        Assert.That(rig.Ext.Kicks, Is.Zero);
        Assert.That(s.ExitInfo, Is.Null);
    }

    [Test]
    public void EnqLastOntoTheLocalDsq_ReschedulesTheIdleCpuAtOnce()
    {
        // put_prev_task_scx: a last task enqueued with SCX_ENQ_LAST that lands on the local DSQ sets need_resched on
        // the next (idle) task, so the CPU picks it again at once instead of idling with a task queued.
        var rig = new ExtRig(cpus: 1);
        int t = rig.Fork(comm: "hog");
        int enqLast = 0;
        var s = new ProbeScheduler
        {
            Flags = ScxOpsFlags.EnqLast,
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                if ((f & ScxEnqFlags.Last) != 0)
                {
                    enqLast++;
                }
                Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceDfl, f);
            },
        };
        rig.LoadOk(s);
        rig.RunMs(200);
        Assert.That(enqLast, Is.GreaterThan(3), "each expired slice ends in an ENQ_LAST enqueue");
        Assert.That(rig.Task(t).Se.SumExecRuntime, Is.GreaterThan(195_000_000UL), "the CPU never idles with the task queued");
        Assert.That(s.ExitInfo, Is.Null);
    }

    [Test]
    public void StallMessageAtHz300_RoundsTheJiffiesUpToMilliseconds()
    {
        // jiffies_to_msecs (kernel/time/time.c) for an HZ that does not divide 1000 is DIV_ROUND_UP(j × 10, 3) at
        // HZ 300. A task runnable from jiffy 1 is caught by the watchdog run at jiffy 13500 (every 4500 = 30 s / 2):
        // 13499 jiffies = 44996.67 ms, reported as 44.997s.
        var rig = new ExtRig(cpus: 1, hz: 300);
        var s = new ProbeScheduler { OnEnqueue = (ref TaskStruct p, ulong f) => { } };
        rig.LoadOk(s);
        rig.RunMs(4);
        int t = rig.Fork(comm: "kept");
        Assert.That(rig.Task(t).Scx.RunnableAt, Is.EqualTo(1UL));
        rig.RunMs(50_000);
        ExpectError(s, ScxExitKind.ErrorStall, $"kept[{rig.Task(t).Pid}] failed to run for 44.997s");
    }

    [Test]
    public void SecondDirectDispatch_IsAlreadyDirectDispatchedError()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, f);
                Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, f);
            },
        });
        rig.RunMs(1);
        // Bypass's requeue at enable walks the runnable list last first, as the kernel's reverse walk does.
        ExpectError(s, ScxExitKind.Error, "t1[1001] already direct-dispatched");
    }

    [Test]
    public void DispatchBufferOverflow_IsError()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            Batch = 1,
            OnEnqueue = (ref TaskStruct p, ulong f) => { },
            OnDispatch = (int cpu, ref TaskStruct prev) =>
            {
                ref var a = ref Scx.TaskFromPid(1000);
                ref var b = ref Scx.TaskFromPid(1001);
                Scx.Dispatch(ref a, Scx.DsqLocal, 0, 0);
                Scx.Dispatch(ref b, Scx.DsqLocal, 0, 0);
            },
        });
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "dispatch buffer overflow");
    }

    [Test]
    public void DispatchThatProducesNothingRunnable_LoopsAtMost32Times_ThenKicksSelf()
    {
        int dispatches = 0;
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => { },
            OnDispatch = (int cpu, ref TaskStruct prev) =>
            {
                dispatches++;
                // A stale dispatch each time: the task is QUEUED with a different qseq... dispatch it to a user DSQ
                // that nobody consumes, then cancel, so the buffer reports one task each round but none arrives.
                ref var a = ref Scx.TaskFromPid(1000);
                Scx.Dispatch(ref a, Scx.DsqLocal, 0, 0);
                a.Scx.OpsQseq++;
                a.Scx.OpsState += 1UL << ScxOpss.QseqShift;
            },
        }, tasks: 1);
        rig.RunMs(1);
        Assert.That(rig.Ext.LoopsExhausted, Is.GreaterThanOrEqualTo(1));
        Assert.That(dispatches % 32, Is.EqualTo(0), $"{dispatches} dispatch calls");
        Assert.That(rig.Ext.StaleDispatches, Is.EqualTo(dispatches));
    }

    [Test]
    public void ZeroSliceOnTheLocalDsq_RefilledToSliceDfl_AndNoted()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                Scx.Dispatch(ref p, Scx.DsqLocal, 0, f);
                p.Scx.Slice = 0;
            },
            OnRunning = (ref TaskStruct p) => Assert.That(p.Scx.Slice, Is.EqualTo(Scx.SliceDfl)),
        });
        rig.RunMs(50);
        Assert.That(s.ExitInfo, Is.Null);
        Assert.That(rig.Ext.Notes, Has.Some.Contains("has zero slice in pick_task_scx()"));
    }

    [Test]
    public void FifoIntoAPriqDsq_IsError()
    {
        int n = 0;
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                if (n++ == 0)
                {
                    Scx.DispatchVtime(ref p, 0, Scx.SliceDfl, 10, f);
                }
                else
                {
                    Scx.Dispatch(ref p, 0, Scx.SliceDfl, f);
                }
            },
        });
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "DSQ ID 0x0000000000000000 already had PRIQ-enqueued tasks");
    }

    [Test]
    public void VtimeIntoAFifoDsq_IsError()
    {
        int n = 0;
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) =>
            {
                if (n++ == 0)
                {
                    Scx.Dispatch(ref p, 0, Scx.SliceDfl, f);
                }
                else
                {
                    Scx.DispatchVtime(ref p, 0, Scx.SliceDfl, 10, f);
                }
            },
            OnDispatch = (int cpu, ref TaskStruct prev) => { },
        }, tasks: 3);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "DSQ ID 0x0000000000000000 already had FIFO-enqueued tasks");
    }

    [Test]
    public void NonExistentDsq_IsError_AndTheTaskFallsBackToTheGlobalDsq()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => Scx.Dispatch(ref p, 77, Scx.SliceDfl, f),
        });
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "non-existent DSQ 0x4d for t1[1001]");
    }

    [Test]
    public void LocalOnInvalidCpu_IsError()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => Scx.Dispatch(ref p, Scx.DsqLocalOn | 9, Scx.SliceDfl, f),
        });
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "invalid CPU 9 in SCX_DSQ_LOCAL_ON dispatch verdict");
    }

    [Test]
    public void LocalOnCpuWithTheSignBitSet_IsReadAsS32_InvalidCpuMinusOne()
    {
        // find_dsq_for_dispatch takes the CPU as s32 from the low 32 bits, so 0xffffffff is CPU -1.
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => Scx.Dispatch(ref p, Scx.DsqLocalOn | 0xffff_ffffUL, Scx.SliceDfl, f),
        });
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "invalid CPU -1 in SCX_DSQ_LOCAL_ON dispatch verdict");
    }

    [Test]
    public void DsqNrQueuedOfLocalOnMinusOne_IsInvalidCpuMinusOne_AndEnoent()
    {
        int got = 0;
        var (rig, s) = Load(new ProbeScheduler
        {
            OnTick = (ref TaskStruct p) => got = Scx.DsqNrQueued(Scx.DsqLocalOn | 0xffff_ffffUL),
        });
        rig.RunMs(10);
        Assert.That(got, Is.EqualTo(-2));
        ExpectError(s, ScxExitKind.Error, "invalid CPU -1");
    }

    [Test]
    public void LocalOnCpuOutsideAffinity_IsError()
    {
        var rig = new ExtRig(cpus: 2);
        var only0 = new Cpumask();
        only0.Set(0);
        rig.Fork(comm: "pinned", cpus: only0);
        var s = new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => { },
            OnDispatch = (int cpu, ref TaskStruct prev) =>
            {
                ref var a = ref Scx.TaskFromPid(1000);
                Scx.Dispatch(ref a, Scx.DsqLocalOn | 1, Scx.SliceDfl, 0);
            },
        };
        rig.LoadOk(s);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "SCX_DSQ_LOCAL[_ON] target CPU 1 not allowed for pinned[1000]");
    }

    [Test]
    public void KfuncFromTheWrongOperation_IsError()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnTick = (ref TaskStruct p) => Scx.Consume(0),
        }, tasks: 1);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "kfunc with mask 0x2 called from an operation only allowing 0x10");
    }

    [Test]
    public void DispatchFromOpsInit_IsError_TheSchedulerEnds_TasksStayFair()
    {
        // ops.init runs under SCX_KF_UNLOCKED (mask 0): scx_dispatch_preamble's scx_kf_allowed refuses the dispatch.
        var rig = new ExtRig(1);
        rig.Fork(comm: "t0");
        var s = new ProbeScheduler
        {
            OnInit = () =>
            {
                ref var a = ref Scx.TaskFromPid(1000);
                Scx.Dispatch(ref a, Scx.DsqGlobal, Scx.SliceDfl, 0);
                return 0;
            },
        };
        rig.LoadOk(s);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "kfunc with mask 0x6 called from an operation only allowing 0x0");
        Assert.That(rig.Ext.Enabled, Is.False);
    }

    [Test]
    public void ConsumeFromOpsInitTask_IsError()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnInitTask = p =>
            {
                Scx.Consume(0);
                return 0;
            },
        }, tasks: 1);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "kfunc with mask 0x2 called from an operation only allowing 0x0");
    }

    [Test]
    public void DispatchCancelUnderflow_IsError()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => { },
            OnDispatch = (int cpu, ref TaskStruct prev) => Scx.DispatchCancel(),
        }, tasks: 1);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.Error, "dispatch buffer underflow");
    }

    [Test]
    public void CreateDsq_DuplicateIsEexist_BuiltinIsEinval()
    {
        int dup = 0, builtin = 0;
        var (_, s) = Load(new ProbeScheduler
        {
            OnInit = () =>
            {
                dup = Scx.CreateDsq(0, -1);
                builtin = Scx.CreateDsq(Scx.DsqGlobal, -1);
                return 0;
            },
        }, tasks: 0);
        // This tree's create_dsq uses rhashtable_lookup_insert_fast: a duplicate id is refused with -EEXIST.
        Assert.That(dup, Is.EqualTo(-17));
        Assert.That(builtin, Is.EqualTo(-22));
        Assert.That(s.ExitInfo, Is.Null);
    }

    /// <summary>
    /// scx_ops_exit_kind only records the exit and queues an irq_work; scx_ops_error_irq_workfn runs scx_dump_state
    /// after the failing operation has returned (ext.c), so ops.dump has its own SCX_KF_UNLOCKED mask: a dispatch kfunc
    /// there is refused (scx_bpf_dispatch_nr_slots gives 0), even when the error came from ops.dispatch, whose
    /// SCX_KF_DISPATCH would allow it.
    /// </summary>
    [Test]
    public void ErrorFromDispatch_DumpRunsAfterItReturns_WithoutTheDispatchMask()
    {
        uint slotsInDump = uint.MaxValue;
        bool inDispatch = false;
        bool dumpInsideDispatch = false;
        int failingCpu = -1;
        var dumpRuns = new List<(int About, int On)>();
        var (rig, s) = Load(new ProbeScheduler
        {
            OnDispatch = (int cpu, ref TaskStruct prev) =>
            {
                inDispatch = true;
                failingCpu = failingCpu < 0 ? Scx.SmpProcessorId : failingCpu; // the first call's error claims the exit
                Scx.Error("boom");
                inDispatch = false;
            },
            OnDump = () =>
            {
                dumpInsideDispatch = inDispatch;
                slotsInDump = Scx.DispatchNrSlots();
                dumpRuns.Add((-1, Scx.SmpProcessorId));
            },
            OnDumpCpu = cpu => dumpRuns.Add((cpu, Scx.SmpProcessorId)),
        }, cpus: 2, tasks: 1);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.ErrorBpf, "boom");
        Assert.Multiple(() =>
        {
            Assert.That(dumpInsideDispatch, Is.False, "the dump waits for ops.dispatch to return");
            Assert.That(slotsInDump, Is.Zero, "dispatch kfuncs are refused in ops.dump");
            Assert.That(dumpRuns.Select(r => r.About), Is.EqualTo(new[] { -1, 0, 1 }), "ops.dump, then dump_cpu for each CPU");
            Assert.That(dumpRuns.Select(r => r.On).Distinct(), Is.EqualTo(new[] { failingCpu }), "all on the CPU that failed (irq_work_queue)");
        });
    }

    /// <summary>
    /// scx_bpf_create_dsq is KF_SLEEPABLE: the verifier lets only sleepable programs call it (init, init_task, exit,
    /// cpu_online/offline). A BPF timer callback runs with SCX_KF_UNLOCKED like them but is not sleepable, so a C#
    /// scheduler's call from one is an error exit, where a .bpf.o's would be refused at load; from ops.init it works.
    /// </summary>
    [Test]
    public void CreateDsq_FromATimerCallback_IsAnError_FromInitItWorks()
    {
        int fromInit = int.MinValue;
        var (rig, s) = Load(new ProbeScheduler
        {
            OnInit = () =>
            {
                fromInit = Scx.CreateDsq(7, -1);
                Scx.CreateTimer(() => Scx.CreateDsq(8, -1)).Start(1_000_000);
                return 0;
            },
        }, tasks: 1);
        rig.RunMs(10);
        Assert.That(fromInit, Is.Zero);
        ExpectError(s, ScxExitKind.Error,
            "program must be sleepable to call sleepable kfunc scx_bpf_create_dsq (called with kf_mask 0x0)");
    }

    /// <summary>
    /// A task dispatched with SCX_SLICE_INF on a nohz_full CPU runs tickless (scx_can_stop_tick), so ops.tick comes only
    /// from sched_tick_remote's task_tick, once a second (core.c): three times in 3.5 s.
    /// </summary>
    [Test]
    public void SliceInf_OnANohzFullCpu_OpsTickComesFromTheOneHertzRemoteTick()
    {
        var tickCpus = new List<int>();
        var rig = new ExtRig(2);
        rig.Kernel.NohzFull = Cpumask.Of(1);
        rig.Fork(comm: "solo", cpus: Cpumask.Of(1));
        var s = new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => Scx.DsqInsert(ref p, Scx.DsqLocal, Scx.SliceInf, f),
            OnTick = (ref TaskStruct p) => tickCpus.Add(Scx.SmpProcessorId),
        };
        rig.LoadOk(s);
        rig.RunMs(3_500);
        Assert.Multiple(() =>
        {
            Assert.That(s.ExitInfo, Is.Null, s.ExitInfo?.Message);
            Assert.That(rig.Kernel.TickRunning(1), Is.False);
            Assert.That(tickCpus, Is.EqualTo(new[] { 0, 0, 0 }), "three remote ticks, run from housekeeping CPU 0");
        });
    }

    /// <summary>
    /// A lone task on a tickless nohz_full CPU switched into sched_ext with a finite slice needs the tick again: the
    /// class change's enqueue re-evaluates the tick dependency (sched_update_tick_dependency) and the tick restarts at
    /// once, so ops.tick runs every jiffy and the slice expires.
    /// </summary>
    [Test]
    public void ClassChange_OnATicklessCpu_RestartsTheTick()
    {
        int ticks = 0;
        var rig = new ExtRig(2);
        rig.Kernel.NohzFull = Cpumask.Of(1);
        rig.Fork(comm: "solo", cpus: Cpumask.Of(1));
        rig.RunMs(50);
        Assert.That(rig.Kernel.TickRunning(1), Is.False, "a lone task of the test class: tickless");
        var s = new ProbeScheduler { OnTick = (ref TaskStruct p) => ticks++ };
        rig.LoadOk(s);
        rig.RunMs(100);
        Assert.Multiple(() =>
        {
            Assert.That(rig.Kernel.TickRunning(1), Is.True);
            Assert.That(ticks, Is.GreaterThan(90), "ops.tick every jiffy");
        });
    }

    [Test]
    public void ScxBpfError_IsErrorBpf_ScxBpfExit_IsUnregBpfWithCode()
    {
        var (rig, s) = Load(new ProbeScheduler { OnTick = (ref TaskStruct p) => Scx.Error($"bad {p.Pid}") }, tasks: 1);
        rig.RunMs(10);
        ExpectError(s, ScxExitKind.ErrorBpf, "bad 1000");
        Assert.That(s.ExitInfo!.Reason, Is.EqualTo("scx_bpf_error"));
        Assert.That(s.ExitInfo.Dump, Does.Contain("CPU states"));
        var (rig2, s2) = Load(new ProbeScheduler { OnTick = (ref TaskStruct p) => Scx.Exit(42, "done") }, tasks: 1);
        rig2.RunMs(10);
        ExpectError(s2, ScxExitKind.UnregBpf, "done");
        Assert.That(s2.ExitInfo!.ExitCode, Is.EqualTo(42));
        Assert.That(s2.ExitInfo.Reason, Is.EqualTo("unregistered from BPF"));
        Assert.That(s2.ExitInfo.Dump, Is.Empty, "only error kinds dump");
    }

    [Test]
    public void FirstExitWins_MessageAtMost1023Bytes()
    {
        var (rig, s) = Load(new ProbeScheduler
        {
            OnTick = (ref TaskStruct p) =>
            {
                Scx.Error(new string('x', 5000));
                Scx.Exit(1, "second");
            },
        }, tasks: 1);
        rig.RunMs(10);
        Assert.That(s.ExitInfo!.Kind, Is.EqualTo(ScxExitKind.ErrorBpf));
        Assert.That(s.ExitInfo.Message, Has.Length.EqualTo(1023));
    }

    [Test]
    public void EnqLastWithoutEnqueue_ErrorExitAfterInit()
    {
        var rig = new ExtRig(cpus: 1);
        rig.Fork();
        var s = new EnqLastNoEnqueue();
        Assert.That(rig.Load(s, out _).IsOk, Is.True);
        Assert.That(s.ExitInfo!.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(s.ExitInfo.Message, Is.EqualTo("SCX_OPS_ENQ_LAST requires ops.enqueue() to be implemented"));
    }

    [Test]
    public void InitTaskFailure_ReportedWithTheTask_InvalidErrnoBecomesEproto()
    {
        var (_, s) = Load(new ProbeScheduler { OnInitTask = p => p.Pid == 1001 ? -5 : 0 });
        ExpectError(s, ScxExitKind.Error, "ops.init_task() failed (-5) for t1[1001]");
        var (_, s2) = Load(new ProbeScheduler { OnInitTask = p => 7 });
        ExpectError(s2, ScxExitKind.Error, "ops.init_task() returned an invalid errno 7");
    }

    [Test]
    public void SelectCpuReturningAnInvalidCpu_IsError()
    {
        var rig = new ExtRig(cpus: 2) { RunNs = 1_000_000, SleepNs = 1_000_000 };
        rig.Fork(workNs: 1_000_000);
        var s = new ProbeScheduler { OnSelect = (ref TaskStruct p, int prev, ulong wf) => 5 };
        rig.LoadOk(s);
        rig.RunMs(20);
        ExpectError(s, ScxExitKind.Error, "invalid CPU 5 from ops.select_cpu()");
    }

    [Test]
    public void SwitchPartial_OnlySchedExtTasksJoin()
    {
        var rig = new ExtRig(cpus: 1);
        int normal = rig.Fork(comm: "normal");
        int ext = rig.Fork(comm: "ext", policy: SchedPolicy.Ext);
        rig.LoadOk(new ProbeScheduler { Flags = ScxOpsFlags.SwitchPartial });
        Assert.That(rig.ClassOf(normal), Is.EqualTo("fifo"));
        Assert.That(rig.ClassOf(ext), Is.EqualTo("ext"));
        Assert.That(rig.Ext.SwitchedAll, Is.False);
    }

    [Test]
    public void EnabledTasks_GetSliceDfl_AndWeight100ForNice0()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork(nice: 0);
        int b = rig.Fork(nice: -20);
        rig.Task(a).Scx.Slice = 5;
        rig.LoadOk(new ProbeScheduler());
        Assert.That(rig.Task(a).Scx.Weight, Is.EqualTo(100));
        Assert.That(rig.Task(b).Scx.Weight, Is.EqualTo(8668));
        Assert.That(rig.Task(a).Scx.Slice, Is.EqualTo(Scx.SliceDfl).Or.LessThan(Scx.SliceDfl));
    }

    [Test]
    public void NoEnqueueOp_TasksGoToTheGlobalDsq_AndRun()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork();
        int b = rig.Fork();
        rig.LoadOk(new PlainMapSimple());
        rig.RunMs(100);
        rig.Kernel.UpdateAccounting();
        Assert.That(rig.Kernel.Metrics.Runtime(a), Is.GreaterThan(30_000_000));
        Assert.That(rig.Kernel.Metrics.Runtime(b), Is.GreaterThan(30_000_000));
    }

    [Test]
    public void KickPreempt_ZeroesTheRunningSlice_AndReschedules()
    {
        bool kicked = false;
        var (rig, s) = Load(new ProbeScheduler
        {
            OnTick = (ref TaskStruct p) =>
            {
                if (!kicked)
                {
                    kicked = true;
                    Scx.KickCpu(0, (ulong)ScxKickFlags.Preempt);
                }
            },
        });
        rig.RunMs(3);
        Assert.That(rig.Ext.Kicks, Is.EqualTo(1));
        Assert.That(rig.Kernel.Metrics.Switches, Is.GreaterThanOrEqualTo(2));
    }

    [TestCase(false, TestName = "SliceInf_WithoutNohzFull_TheCpuKeepsTicking_OpsTickRunsEveryJiffy")]
    [TestCase(true, TestName = "SliceInf_OnANohzFullCpu_TheTickStops")]
    public void SliceInf_StopsTheTickOnlyOnANohzFullCpu(bool nohzFull)
    {
        // scx_can_stop_tick allows it, but tick_nohz_full_update_tick (tick-sched.c) stops a busy CPU's tick only on
        // a nohz_full CPU: on a default-booted kernel sched_tick runs task_tick_scx (ops.tick) every jiffy.
        int ticks = 0;
        var s = new ProbeScheduler
        {
            OnEnqueue = (ref TaskStruct p, ulong f) => Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceInf, f),
            OnTick = (ref TaskStruct p) => ticks++,
        };
        var rig = new ExtRig(cpus: 1);
        if (nohzFull)
        {
            rig.Kernel.NohzFull = Cpumask.Of(0);
        }
        rig.Fork(comm: "t0");
        rig.LoadOk(s);
        rig.RunMs(200);
        Assert.That(s.ExitInfo, Is.Null);
        Assert.That(rig.Ext.CanStopTick(0), Is.True, "scx_can_stop_tick: SCX_RQ_CAN_STOP_TICK is set");
        Assert.That(rig.Kernel.TickRunning(0), Is.EqualTo(!nohzFull));
        if (nohzFull)
        {
            Assert.That(ticks, Is.LessThan(5), "at most the ticks before the SLICE_INF task was picked");
        }
        else
        {
            Assert.That(ticks, Is.InRange(199, 200), "HZ=1000: a tick each jiffy");
        }
    }
}

[BpfSim.Core.Bpf.Consumers.StructOps(SchedExtOpsType.TypeName, Name = "enqlast", Link = true, Flags = 2)]
internal sealed class EnqLastNoEnqueue : SchedExtOpsProgram
{
    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
