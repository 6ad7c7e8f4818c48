namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// What tasks do with the CPU (the workload side of a simulated kernel): the kernel tracks each task's remaining
/// CPU work in ns, advances it by the time the task actually runs, and calls <see cref="WorkDone"/> when it reaches
/// zero while the task runs. The driver then gives it more work (<see cref="SchedKernel.SetWork"/>), blocks it
/// (<see cref="SchedKernel.Block"/>) or ends it (<see cref="SchedKernel.Exit"/>).
/// </summary>
public interface ITaskWorkDriver
{
    /// <summary>The current task <paramref name="task"/> of <paramref name="cpu"/> has done all its work.</summary>
    void WorkDone(int task, int cpu);
}
