using BpfSim.Studies;
using BpfSim.Cli;
using BpfSim.Studies.Scenarios;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Cli;

/// <summary>
/// A scheduler scenario's struct_ops actions are replayed on its machine without tasks before it runs
/// (<see cref="StructOpsCheck"/>), as a TCP scenario's are: what the kernel would refuse when the run reaches the entry
/// (a scheduler that cannot be built, a value bpf_scx_init_member rejects) is reported at the entry's file:line:col by
/// validate and before run; an error exit of an enabled scheduler is not a refusal and is left to the run.
/// </summary>
[Category("Cli")]
public sealed class SchedStructOpsCheckTests
{
    /// <summary>A global FIFO, so each test scheduler below misbehaves in one way only.</summary>
    public abstract class FifoScheduler : SchedExtOpsProgram
    {
        public override int Init()
        {
            Scx.CreateDsq(0, -1);
            return 0;
        }

        public override void Enqueue(ref TaskStruct p, ulong enqFlags) => Scx.Dispatch(ref p, 0, Scx.SliceDfl, enqFlags);

        public override void Dispatch(int cpu, ref TaskStruct prev) => Scx.Consume(0);
    }

    [StructOps(SchedExtOpsType.TypeName, Name = "t_ctor_throws", Link = true)]
    public sealed class ThrowsInConstructor : FifoScheduler
    {
        public ThrowsInConstructor() => throw new InvalidOperationException("deliberate fault in the constructor");
    }

    /// <summary>timeout_ms above SCX_WATCHDOG_MAX_TIMEOUT: bpf_scx_init_member returns -E2BIG (kernel/sched/ext.c).</summary>
    [StructOps(SchedExtOpsType.TypeName, Name = "t_long_watchdog", Link = true)]
    public sealed class WatchdogTooLong : FifoScheduler
    {
        public override uint TimeoutMs => 60_000;
    }

    /// <summary>ops.init fails: scx_ops_enable makes it an error exit and bpf_scx_reg still returns 0.</summary>
    [StructOps(SchedExtOpsType.TypeName, Name = "t_init_fails", Link = true)]
    public sealed class InitFails : FifoScheduler
    {
        public override int Init() => -12;
    }

    private static LoadedScenario Load(string yaml)
    {
        var (factory, catalog) = Composition.Create([]);
        foreach (var type in new[] { typeof(ThrowsInConstructor), typeof(WatchdogTooLong), typeof(InitFails) })
        {
            catalog.Add(type, "test");
        }
        return ScenarioLoader.Load(CliRun.Scenario(yaml), factory, catalog);
    }

    private static string Scenario(string scheduler, string at = "0.5s") => $"""
        subsystem: sched
        duration: 2s
        cpus: 2
        tasks:
          - {"{"} name: hog, count: 3 {"}"}
        structops:
          - {"{"} program: scx_simple, at: 0s, unregister_at: 0.2s {"}"}
          - {"{"} program: {scheduler}, at: {at} {"}"}
        """;

    private static ScenarioError RefusedAt(string yaml, int line, int column)
    {
        var e = Assert.Throws<ScenarioException>(() => Load(yaml))!;
        var error = e.Errors.Single();
        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.ToString());
        return error;
    }

    [Test]
    public void ConstructorThrows_RefusedAtTheEntry()
    {
        var error = RefusedAt(Scenario("t_ctor_throws"), 8, 5);
        Assert.That(error.Message, Does.Contain("deliberate fault in the constructor"));
    }

    [Test]
    public void TimeoutAboveTheMaximum_InitMemberRefuses_ReportedAtTheEntryWithItsTime()
    {
        var error = RefusedAt(Scenario("t_long_watchdog", at: "1.5s"), 8, 5);
        Assert.That(error.Message, Does.StartWith("t=1.5").And.Contain("t_long_watchdog").And.Contain("E2BIG")
            .And.Contain("timeout_ms 60000 is above the 30 s maximum"));
    }

    [Test]
    public void InitFails_IsAnErrorExitNotARefusal_ScenarioLoads()
    {
        var loaded = Load(Scenario("t_init_fails"));
        Assert.That(loaded.Sched!.StructOps, Has.Count.EqualTo(2));
    }

    [Test]
    public void BuiltinScheduler_InOrder_Loads()
    {
        var loaded = Load(Scenario("scx_qmap"));
        Assert.That(loaded.Sched!.StructOps.Select(e => e.Program), Is.EqualTo(new[] { "scx_simple", "scx_qmap" }));
    }
}
