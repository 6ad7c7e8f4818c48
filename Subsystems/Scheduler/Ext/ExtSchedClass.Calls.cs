using System.Runtime.CompilerServices;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

// SCX_CALL_OP / SCX_CALL_OP_TASK / SCX_CALL_OP_2TASKS_RET (kernel/sched/ext.c): every call into the scheduler sets
// the kfunc mask of its context (scx_kf_allow / scx_kf_disallow) and the tasks it operates on (kf_tasks), makes the
// kfuncs reachable through Scx for C# consumers, and runs inside the consumer's guard, so an exception becomes an
// error exit (SCX_EXIT_ERROR) and the kernel's behaviour for an absent op is used for that call.
public sealed partial class ExtSchedClass
{
    private static readonly int MSelectCpu = Index("select_cpu"), MEnqueue = Index("enqueue"), MDequeue = Index("dequeue"),
        MDispatch = Index("dispatch"), MTick = Index("tick"), MRunnable = Index("runnable"), MRunning = Index("running"),
        MStopping = Index("stopping"), MQuiescent = Index("quiescent"), MYield = Index("yield"), MSetWeight = Index("set_weight"),
        MSetCpumask = Index("set_cpumask"), MUpdateIdle = Index("update_idle"), MCpuAcquire = Index("cpu_acquire"),
        MCpuRelease = Index("cpu_release"), MInitTask = Index("init_task"), MExitTask = Index("exit_task"), MEnable = Index("enable"),
        MDisable = Index("disable"), MDump = Index("dump"), MDumpCpu = Index("dump_cpu"), MDumpTask = Index("dump_task"),
        MInit = Index("init"), MExit = Index("exit");

    private static int Index(string member)
    {
        for (int i = 0; i < SchedExtOpsType.MemberNames.Count; i++)
        {
            if (SchedExtOpsType.MemberNames[i] == member)
            {
                return i;
            }
        }
        throw new InvalidOperationException(member);
    }

    private ConsumerGuard? _guard;

    /// <summary>The guard of the loaded scheduler (null for a table enabled without one, as in some tests).</summary>
    public ConsumerGuard? Guard => _guard;

    // State saved around a (possibly nested) call.
    private struct CallFrame
    {
        public ScxKfMask Mask;
        public bool Sleepable;
        public int Task0;
        public int Task1;
        public int Cpu;
        public ScxKfuncs? Scx;
        public Core.Bpf.ProgramScope? Program;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Enter(int member, ScxKfMask mask, int cpu, int task0, int task1, out CallFrame frame, bool sleepable = false)
    {
        frame = default;
        if (_guard is not null && !_guard.Enter(member))
        {
            return false;
        }
        var k = Kfuncs;
        frame.Mask = k.KfMask;
        frame.Sleepable = k.InSleepable;
        frame.Task0 = k.KfTask0;
        frame.Task1 = k.KfTask1;
        frame.Cpu = k.ThisCpu;
        frame.Scx = Scx.Current;
        k.KfMask |= mask;
        k.InSleepable = sleepable;
        if (task0 >= 0 || task1 >= 0)
        {
            k.KfTask0 = task0;
            k.KfTask1 = task1;
        }
        if (cpu >= 0)
        {
            k.ThisCpu = cpu;
        }
        Scx.Current = k;
        // A program invocation on the BPF side: per-CPU maps address this CPU, map-in-map lookups are held (a C#
        // scheduler may use the struct_ops map's BpfSystem for maps, as scx_qmap's queues). Sleepable operations
        // (init, init_task) hold no RCU read lock: they may wait for a grace period (a
        // map-in-map update from ops.init does), during which the rest of the system runs on.
        if (_bpf is not null && !sleepable)
        {
            frame.Program = _bpf.EnterProgram((cpu >= 0 ? cpu : k.ThisCpu >= 0 ? k.ThisCpu : 0) % _bpf.Cpus.Count);
        }
        return true;
    }

    private void Leave(in CallFrame frame)
    {
        frame.Program?.Dispose();
        var k = Kfuncs;
        k.KfMask = frame.Mask;
        k.InSleepable = frame.Sleepable;
        k.KfTask0 = frame.Task0;
        k.KfTask1 = frame.Task1;
        k.ThisCpu = frame.Cpu;
        Scx.Current = frame.Scx;
        _guard?.Exit();
    }

    private bool Caught(int member, Exception e)
    {
        if (_guard is not null)
        {
            return _guard.Catch(member, e);
        }
        // A table without a guard (tests): still an error exit, never a crash of the run.
        var cause = e is TypeInitializationException { InnerException: { } inner } ? inner : e;
        ErrorExit(ScxExitKind.Error, 0, $"ops.{SchedExtOpsType.MemberNames[member]}() threw {cause.GetType().Name}: {cause.Message}");
        return true;
    }

    private int CallSelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags, int thisCpu)
    {
        if (!Enter(MSelectCpu, ScxKfMask.Enqueue | ScxKfMask.SelectCpu, thisCpu, p.Id, -1, out var f))
        {
            return prevCpu;
        }
        try
        {
            return _ops!.SelectCpu!(ref p, prevCpu, wakeFlags);
        }
        catch (Exception e) when (Caught(MSelectCpu, e))
        {
            return prevCpu;
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallTaskFlags(int member, TaskFlagsFn fn, ScxKfMask mask, int cpu, ref TaskStruct p, ulong flags)
    {
        if (!Enter(member, mask, cpu, p.Id, -1, out var f))
        {
            return;
        }
        try
        {
            fn(ref p, flags);
        }
        catch (Exception e) when (Caught(member, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallTask(int member, TaskFn fn, int cpu, ref TaskStruct p)
    {
        if (!Enter(member, ScxKfMask.Rest, cpu, p.Id, -1, out var f))
        {
            return;
        }
        try
        {
            fn(ref p);
        }
        catch (Exception e) when (Caught(member, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallDispatch(int cpu, int prev)
    {
        if (!Enter(MDispatch, ScxKfMask.Dispatch, cpu, -1, -1, out var f))
        {
            return;
        }
        try
        {
            if (prev >= 0)
            {
                _ops!.Dispatch!(cpu, ref Task(prev));
            }
            else
            {
                _ops!.Dispatch!(cpu, ref Unsafe.NullRef<TaskStruct>());
            }
        }
        catch (Exception e) when (Caught(MDispatch, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallStopping(int cpu, ref TaskStruct p, bool runnable)
    {
        if (!Enter(MStopping, ScxKfMask.Rest, cpu, p.Id, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.Stopping!(ref p, runnable);
        }
        catch (Exception e) when (Caught(MStopping, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private bool CallYield(int cpu, ref TaskStruct from, int to)
    {
        if (!Enter(MYield, ScxKfMask.Rest, cpu, from.Id, to, out var f))
        {
            return false;
        }
        try
        {
            return to >= 0 ? _ops!.Yield!(ref from, ref Task(to)) : _ops!.Yield!(ref from, ref Unsafe.NullRef<TaskStruct>());
        }
        catch (Exception e) when (Caught(MYield, e))
        {
            return false;
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallSetWeight(int cpu, ref TaskStruct p, uint weight)
    {
        if (!Enter(MSetWeight, ScxKfMask.Rest, cpu, p.Id, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.SetWeight!(ref p, weight);
        }
        catch (Exception e) when (Caught(MSetWeight, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallSetCpumask(int cpu, ref TaskStruct p)
    {
        if (!Enter(MSetCpumask, ScxKfMask.Rest, cpu, p.Id, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.SetCpumask!(ref p, in p.CpusMask);
        }
        catch (Exception e) when (Caught(MSetCpumask, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallUpdateIdle(int cpu, bool idle)
    {
        if (!Enter(MUpdateIdle, ScxKfMask.Rest, cpu, -1, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.UpdateIdle!(cpu, idle);
        }
        catch (Exception e) when (Caught(MUpdateIdle, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallCpuAcquire(int cpu)
    {
        if (!Enter(MCpuAcquire, ScxKfMask.Rest, cpu, -1, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.CpuAcquire!(cpu, default);
        }
        catch (Exception e) when (Caught(MCpuAcquire, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallCpuRelease(int cpu, in ScxCpuReleaseArgs args)
    {
        if (!Enter(MCpuRelease, ScxKfMask.CpuRelease, cpu, -1, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.CpuRelease!(cpu, args);
        }
        catch (Exception e) when (Caught(MCpuRelease, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    /// <summary>ops.init_task (SCX_KF_UNLOCKED: sleepable); an exception is reported as -EINVAL after the error exit.</summary>
    private int CallInitTask(ref TaskStruct p, bool fork)
    {
        if (!Enter(MInitTask, ScxKfMask.Unlocked, -1, -1, -1, out var f, sleepable: true))
        {
            return -22;
        }
        try
        {
            return _ops!.InitTask!(ref p, new ScxInitTaskArgs(fork));
        }
        catch (Exception e) when (Caught(MInitTask, e))
        {
            return -22;
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallExitTask(int cpu, ref TaskStruct p, bool cancelled)
    {
        if (!Enter(MExitTask, ScxKfMask.Rest, cpu, p.Id, -1, out var f))
        {
            return;
        }
        try
        {
            _ops!.ExitTask!(ref p, new ScxExitTaskArgs(cancelled));
        }
        catch (Exception e) when (Caught(MExitTask, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }

    private int CallInit()
    {
        if (!Enter(MInit, ScxKfMask.Unlocked, -1, -1, -1, out var f, sleepable: true))
        {
            return -22;
        }
        try
        {
            return _ops!.Init!();
        }
        catch (Exception e) when (Caught(MInit, e))
        {
            return -22;
        }
        finally
        {
            Leave(f);
        }
    }

    private void CallExit(ScxExitInfo info)
    {
        // The exit op runs even when the scheduler faulted: it is how the loader learns why (UEI); a faulted guard
        // refuses it, so it runs unguarded but contained.
        var frame = new CallFrame { Mask = Kfuncs.KfMask, Sleepable = Kfuncs.InSleepable, Task0 = Kfuncs.KfTask0, Task1 = Kfuncs.KfTask1, Cpu = Kfuncs.ThisCpu, Scx = Scx.Current };
        Kfuncs.KfMask = ScxKfMask.Unlocked;
        Kfuncs.InSleepable = true;
        Scx.Current = Kfuncs;
        try
        {
            _ops!.Exit!(info);
        }
        catch (Exception e)
        {
            _notes.Add($"ops.exit() of {_ops!.Name} threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Kfuncs.KfMask = frame.Mask;
            Kfuncs.InSleepable = frame.Sleepable;
            Scx.Current = frame.Scx;
        }
    }

    /// <summary>One dump op, run on <paramref name="runCpu"/> (the failing CPU) about <paramref name="cpu"/>.</summary>
    private void CallDump(int member, int runCpu, int cpu, bool idle, int task, in ScxDumpCtx ctx)
    {
        // ops.dump runs with SCX_KF_UNLOCKED, dump_cpu and dump_task with SCX_KF_REST (scx_dump_state).
        if (!Enter(member, member == MDump ? ScxKfMask.Unlocked : ScxKfMask.Rest, runCpu, task, -1, out var f))
        {
            return;
        }
        try
        {
            if (member == MDump)
            {
                _ops!.Dump!(ctx);
            }
            else if (member == MDumpCpu)
            {
                _ops!.DumpCpu!(ctx, cpu, idle);
            }
            else
            {
                _ops!.DumpTask!(ctx, ref Task(task));
            }
        }
        catch (Exception e) when (Caught(member, e))
        {
        }
        finally
        {
            Leave(f);
        }
    }
}
