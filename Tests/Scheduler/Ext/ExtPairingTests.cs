using BpfSim.Core.Bpf.Consumers;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>init_task/exit_task and enable/disable pair up; runnable → (running → stopping)* → quiescent nest.</summary>
public class ExtPairingTests
{
    [StructOps(SchedExtOpsType.TypeName, Name = "pairs", Link = true)]
    private sealed class PairCounter : SchedExtOpsProgram
    {
        public readonly Dictionary<int, int> InitT = [], ExitT = [], Enabled = [], Disabled = [];
        public readonly Dictionary<int, string> State = [];
        public string? Violation;

        private static void Inc(Dictionary<int, int> d, int pid) => d[pid] = d.GetValueOrDefault(pid) + 1;

        private void Step(int pid, string from, string to)
        {
            string now = State.GetValueOrDefault(pid, "quiescent");
            if (!from.Split('|').Contains(now))
            {
                Violation ??= $"{pid}: {now} → {to}";
            }
            State[pid] = to;
        }

        public override int InitTask(ref TaskStruct p, in ScxInitTaskArgs args) { Inc(InitT, p.Pid); return 0; }
        public override void ExitTask(ref TaskStruct p, in ScxExitTaskArgs args) => Inc(ExitT, p.Pid);
        public override void Enable(ref TaskStruct p) => Inc(Enabled, p.Pid);
        public override void Disable(ref TaskStruct p) => Inc(Disabled, p.Pid);
        public override void Enqueue(ref TaskStruct p, ulong enqFlags) => Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, enqFlags);
        public override void Runnable(ref TaskStruct p, ulong enqFlags) => Step(p.Pid, "quiescent", "runnable");
        public override void Running(ref TaskStruct p) => Step(p.Pid, "runnable", "running");
        public override void Stopping(ref TaskStruct p, bool runnable) => Step(p.Pid, "running", "runnable");
        public override void Quiescent(ref TaskStruct p, ulong deqFlags) => Step(p.Pid, "runnable", "quiescent");
        public override void Exit(ScxExitInfo info) => base.Exit(info);
    }

    [Test]
    public void InitExitAndEnableDisable_Pair_AndStateCallbacksNest()
    {
        var rig = new ExtRig(cpus: 2) { RunNs = 1_500_000, SleepNs = 2_500_000 };
        var ids = Enumerable.Range(0, 5).Select(i => rig.Fork(comm: $"t{i}", workNs: i < 2 ? long.MaxValue : 1_000_000)).ToArray();
        var s = new PairCounter();
        var loaded = rig.LoadOk(s);
        rig.RunMs(300);
        Assert.That(loaded.Unregister().IsOk, Is.True);
        Assert.That(s.Violation, Is.Null);
        foreach (int id in ids)
        {
            int pid = rig.Task(id).Pid;
            Assert.That(s.InitT.GetValueOrDefault(pid), Is.EqualTo(1), $"init_task {pid}");
            Assert.That(s.ExitT.GetValueOrDefault(pid), Is.EqualTo(1), $"exit_task {pid}");
            Assert.That(s.Enabled.GetValueOrDefault(pid), Is.EqualTo(s.Disabled.GetValueOrDefault(pid)).And.EqualTo(1), $"enable/disable {pid}");
        }
    }
}
