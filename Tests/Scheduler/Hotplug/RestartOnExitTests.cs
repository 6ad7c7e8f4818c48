using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Core.Workloads;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Workloads;
using static BpfSim.Tests.Scheduler.Workloads.SchedRunRig;

namespace BpfSim.Tests.Scheduler.Hotplug;

/// <summary>
/// restart_on_exit reloads a scheduler that exits with SCX_ECODE_ACT_RESTART, as tools/sched_ext/scx_simple.c's
/// <c>goto restart</c> does; one that exits again at once is restarted when the loader's once-a-second poll would see
/// it, so the run moves on rather than restarting it forever at one instant.
/// </summary>
public sealed class RestartOnExitTests
{
    /// <summary>Asks for a restart from ops.init, every time it is loaded.</summary>
    [StructOps(SchedExtOpsType.TypeName, Name = "t_restart_in_init", Link = true)]
    private sealed class RestartsInInit : SchedExtOpsProgram
    {
        public override int Init()
        {
            Scx.Exit(ScxExitCodes.ActRestart, "restart me");
            return 0;
        }
    }

    [Test]
    public void SchedulerThatExitsWithRestartAtOnce_IsRestartedOncePerSecond_AndTheRunCompletes()
    {
        var catalog = new ConsumerCatalog();
        catalog.Add(typeof(RestartsInInit), "test");
        var spec = Spec(2, SimTime.FromMilliseconds(3500), new TaskGroupSpec { Name = "hog", Count = 3 }) with
        {
            StructOps = [new StructOpsEntry { Program = "t_restart_in_init", At = SimTime.FromMilliseconds(100), RestartOnExit = true }],
        };

        var r = SchedScenarioRunner.Run(spec, () => new BpfSystem(), catalog);

        Assert.Multiple(() =>
        {
            Assert.That(r.SimSeconds, Is.EqualTo(3.5));
            // Loaded at 0.1 s, restarted at once (the first restart at that instant), then 1.1, 2.1 and 3.1 s.
            Assert.That(r.Schedulers.Select(s => s.DisabledSeconds), Is.EqualTo(new double?[] { 0.1, 0.1, 1.1, 2.1, 3.1 }).Within(1e-9),
                string.Join("; ", r.Schedulers));
            Assert.That(r.Schedulers.Select(s => s.ExitKind), Is.All.EqualTo("SCX_EXIT_UNREG_BPF"));
            Assert.That(r.Tasks.Select(t => t.Class), Is.All.EqualTo("fair"));
        });
    }
}
