using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>
/// Property: whatever a scheduler does with the kfuncs (direct dispatch anywhere, holding tasks, dispatching held and
/// not-held tasks, consuming any DSQ, kicking), the ext class never loses or duplicates a task: every runnable ext
/// task is exactly one of running, on one DSQ, or held by the BPF side (ops_state QUEUED).
/// </summary>
public class ExtPropertyTests
{
    [StructOps(SchedExtOpsType.TypeName, Name = "chaos", Link = true)]
    private sealed class ChaosScheduler(SimRandom rng, int cpus) : SchedExtOpsProgram
    {
        private readonly List<int> _held = [];

        public override int SelectCpu(ref TaskStruct p, int prevCpu, ulong wakeFlags)
        {
            int cpu = rng.Next(cpus);
            if (rng.Next(3) == 0)
            {
                Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceDfl, 0);
            }
            return cpu;
        }

        public override void Enqueue(ref TaskStruct p, ulong enqFlags)
        {
            switch (rng.Next(5))
            {
                case 0:
                    _held.Add(p.Pid);
                    break;
                case 1:
                    Scx.Dispatch(ref p, (ulong)rng.Next(2), (ulong)rng.Next(1, 5) * 1_000_000, enqFlags);
                    break;
                case 2:
                    Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, enqFlags);
                    break;
                case 3:
                    Scx.Dispatch(ref p, Scx.DsqLocalOn | (uint)Scx.TaskCpu(p), Scx.SliceDfl, enqFlags | (rng.Next(2) == 0 ? ScxEnqFlags.Preempt : 0));
                    break;
                default:
                    Scx.Dispatch(ref p, Scx.DsqLocal, 0, enqFlags);
                    break;
            }
        }

        public override void Dispatch(int cpu, ref TaskStruct prev)
        {
            int n = rng.Next(4);
            for (int i = 0; i < n && Scx.DispatchNrSlots() > 0; i++)
            {
                if (_held.Count > 0 && rng.Next(2) == 0)
                {
                    int k = rng.Next(_held.Count);
                    int pid = _held[k];
                    _held.RemoveAt(k);
                    ref var p = ref Scx.TaskFromPid(pid);
                    ulong target = rng.Next(3) switch { 0 => Scx.DsqLocalOn | (uint)rng.Next(cpus), 1 => (ulong)rng.Next(2), _ => Scx.DsqLocal };
                    Scx.Dispatch(ref p, target, Scx.SliceDfl, 0);
                }
                else
                {
                    // A spurious dispatch of any task: the core must drop it unless the BPF side owns it.
                    ref var p = ref Scx.TaskFromPid(1000 + rng.Next(6));
                    Scx.Dispatch(ref p, Scx.DsqLocal, 0, 0);
                }
            }
            if (rng.Next(2) == 0)
            {
                Scx.Consume((ulong)rng.Next(2));
            }
            if (rng.Next(8) == 0)
            {
                Scx.KickCpu(rng.Next(cpus), (ulong)ScxKickFlags.Preempt);
            }
            if (_held.Count > 0 && Scx.DsqNrQueued(0) + Scx.DsqNrQueued(1) == 0 && Scx.DsqNrQueued(Scx.DsqLocal) == 0)
            {
                ref var p = ref Scx.TaskFromPid(_held[0]);
                _held.RemoveAt(0);
                Scx.Dispatch(ref p, Scx.DsqLocal, Scx.SliceDfl, 0);
            }
        }

        public override void Dequeue(ref TaskStruct p, ulong deqFlags) => _held.Remove(p.Pid);

        public override int Init()
        {
            Scx.CreateDsq(0, -1);
            return Scx.CreateDsq(1, -1);
        }

        public override void Exit(ScxExitInfo info) => base.Exit(info);
    }

    [TestCase(1UL)]
    [TestCase(2UL)]
    [TestCase(3UL)]
    public void RandomKfuncSequences_NeverLoseOrDuplicateATask(ulong seed)
    {
        const int cpus = 3;
        var rig = new ExtRig(cpus) { RunNs = 3_000_000, SleepNs = 2_000_000 };
        var tasks = Enumerable.Range(0, 6).Select(i => rig.Fork(comm: $"t{i}", workNs: i < 3 ? long.MaxValue : 3_000_000)).ToArray();
        var s = new ChaosScheduler(SimRandom.For(seed, "chaos"), cpus);
        rig.LoadOk(s);
        for (int step = 0; step < 400; step++)
        {
            rig.RunFor(SimTime.FromMicroseconds(250));
            Assert.That(s.ExitInfo, Is.Null, s.ExitInfo?.Message);
            foreach (int t in tasks)
            {
                ref var p = ref rig.Task(t);
                if (p.State != (uint)TaskState.Running || p.OnRq == 0 || rig.ClassOf(t) != "ext")
                {
                    continue;
                }
                bool running = Enumerable.Range(0, cpus).Count(c => rig.Kernel.Current(c) == t) == 1;
                bool onDsq = rig.Ext.Dsqs.DsqOf(t) >= 0;
                bool held = (p.Scx.OpsState & ScxOpss.StateMask) == ScxOpss.Queued;
                int places = (running ? 1 : 0) + (onDsq ? 1 : 0) + (held ? 1 : 0);
                Assert.That(places, Is.EqualTo(1), $"seed {seed} step {step}: {p.CommString} running={running} dsq={onDsq} held={held}");
            }
        }
        rig.Kernel.UpdateAccounting();
        foreach (int t in tasks)
        {
            Assert.That(rig.Kernel.Metrics.Runtime(t), Is.GreaterThan(0), $"seed {seed}: t{t} never ran");
        }
    }
}
