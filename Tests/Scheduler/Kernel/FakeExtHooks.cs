using BpfSim.Scheduler.Kernel;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Kernel;

/// <summary>
/// sched_ext's hooks as the core sees them, over a FIFO class: enabled or not, SCHED_EXT tasks go to it, with every
/// call counted so tests can check where the core makes them.
/// </summary>
internal sealed class FakeExtHooks : ISchedExtHooks
{
    public FakeExtHooks(FifoTestClass cls)
    {
        Fifo = cls;
    }

    public FifoTestClass Fifo { get; }
    public SchedClass Class => Fifo;
    public bool Enabled { get; set; } = true;
    public bool SwitchedAll { get; set; }
    public int ForkResult { get; set; }
    public bool StopTick { get; set; }
    public int Forks { get; private set; }
    public int PostForks { get; private set; }
    public int Ticks { get; private set; }
    public List<int> Freed { get; } = [];
    public List<(int Cpu, bool Idle)> IdleCalls { get; } = [];

    public bool TaskShouldScx(in TaskStruct p) => SwitchedAll || p.Policy == (uint)SchedPolicy.Ext;

    public int Fork(ref TaskStruct p)
    {
        Forks++;
        return ForkResult;
    }

    public void PostFork(ref TaskStruct p) => PostForks++;

    public void TaskFree(ref TaskStruct p) => Freed.Add(p.Id);

    public void Tick(int cpu) => Ticks++;

    public void UpdateIdle(int cpu, bool idle, bool notify = true)
    {
        if (notify)
        {
            IdleCalls.Add((cpu, idle));
        }
        else
        {
            IdleRefreshes.Add(cpu);
        }
    }

    /// <summary>pick_task_idle's refreshes (no notify): CPUs that picked idle while idle.</summary>
    public List<int> IdleRefreshes { get; } = [];

    public bool CanStopTick(int cpu) => StopTick;
}
