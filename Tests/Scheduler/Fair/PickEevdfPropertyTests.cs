using Bogus;
using BpfSim.Scheduler.Fair;
using BpfSim.Scheduler.Kernel;

namespace BpfSim.Tests.Scheduler.Fair;

/// <summary>
/// pick_eevdf against a brute-force scan written from the EEVDF definition: among the queued entities, the eligible
/// one (Σ w_j (v_j − v_i) ≥ 0, exact) with the earliest deadline, equal deadlines in insertion order; curr (kept out
/// of the tree) wins only with a strictly earlier deadline, and keeps the CPU while its slice is protected.
/// </summary>
public sealed class PickEevdfPropertyTests
{
    private const long Ms = 1_000_000;

    [Test]
    public void PickEevdf_ReturnsTheEligibleEntityWithTheEarliestDeadline_AsABruteForceScan()
    {
        var random = new Randomizer(20261126);
        int checks = 0, nonTrivial = 0;
        for (int run = 0; run < 40; run++)
        {
            var core = new FairTestCore(1, features: FairFeatures.Default with { DelayDequeue = random.Bool() });
            int n = random.Int(2, 14);
            var ids = new List<int>();
            for (int i = 0; i < n; i++)
            {
                ids.Add(core.Fork($"t{i}", random.Int(-8, 12)));
            }
            for (int step = 0; step < 150; step++)
            {
                switch (random.Int(0, 9))
                {
                    case <= 3:
                        core.RunFor(random.Long(10_000, 3 * Ms));
                        break;
                    case 4 or 5:
                        if (core.Current(0) >= 0 && ids.Count(id => core.Tasks[id].State == 0) > 1)
                        {
                            core.Sleep(core.Current(0));
                        }
                        break;
                    case 6 or 7:
                        var sleeping = ids.Where(id => core.Tasks[id].State != 0).ToList();
                        if (sleeping.Count > 0)
                        {
                            core.Wake(random.ListItem(sleeping));
                            core.ScheduleAll();
                        }
                        break;
                    case 8:
                        if (core.Current(0) >= 0 && random.Bool())
                        {
                            core.Fair.YieldTask(0);
                        }
                        else
                        {
                            // A sleeping task's nice changes while the fair class is not told (as in another class).
                            var asleep = ids.Where(id => core.Tasks[id].OnRq == 0).ToList();
                            if (asleep.Count > 0)
                            {
                                ref var q = ref core.Tasks[random.ListItem(asleep)];
                                q.StaticPrio = q.Prio = q.NormalPrio = 120 + random.Int(-8, 12);
                                FairMath.SetLoadWeight(ref q);
                            }
                        }
                        break;
                    default:
                        int r = random.ListItem(ids);
                        ref var p = ref core.Tasks[r];
                        p.StaticPrio = p.Prio = p.NormalPrio = 120 + random.Int(-8, 12);
                        FairMath.SetLoadWeight(ref p);
                        core.Fair.ReweightTask(core.Fair.QueuedCpu(r) >= 0 ? core.Fair.QueuedCpu(r) : p.Cpu, ref p);
                        break;
                }
                var queuedNow = ids.Where(id => core.Tasks[id].Se.OnRq != 0 && core.Fair.QueuedCpu(id) == 0).ToList();
                if (queuedNow.Count > 0)
                {
                    Assert.That(core.Fair.AvgVruntime(0), Is.EqualTo(BruteForceV(core, queuedNow)), $"V, run {run} step {step}");
                }
                int expected = BruteForcePick(core, ids);
                int actual = core.Fair.PickEevdf(0);
                Assert.That(actual, Is.EqualTo(expected), $"run {run} step {step}");
                checks++;
                if (expected >= 0 && expected != core.Fair.CurrOf(0))
                {
                    nonTrivial++;
                }
            }
        }
        Assert.That(checks, Is.EqualTo(40 * 150));
        Assert.That(nonTrivial, Is.GreaterThan(500), "the scan must often pick a queued entity other than curr");
    }

    /// <summary>V = floor(Σ w_j v_j / Σ w_j), in exact arithmetic relative to one of the vruntimes.</summary>
    private static ulong BruteForceV(FairTestCore core, List<int> queued)
    {
        ulong r = core.Tasks[queued[0]].Se.Vruntime;
        Int128 sum = 0, load = 0;
        foreach (int j in queued)
        {
            ulong wj = Math.Max(2UL, core.Tasks[j].Se.Weight >> 10);
            sum += (Int128)(long)(core.Tasks[j].Se.Vruntime - r) * (Int128)wj;
            load += wj;
        }
        Int128 q = sum / load;
        if (sum < 0 && q * load != sum)
        {
            q -= 1; // floor
        }
        return r + (ulong)(long)q;
    }

    private static int BruteForcePick(FairTestCore core, List<int> ids)
    {
        var fair = core.Fair;
        int curr = fair.CurrOf(0);
        // Every queued entity (curr too while it is on the runqueue), delayed ones included.
        var queued = ids.Where(id => core.Tasks[id].Se.OnRq != 0 && fair.QueuedCpu(id) == 0).ToList();
        if (queued.Count == 0)
        {
            return -1;
        }
        if (queued.Count == 1)
        {
            return queued[0];
        }
        bool Eligible(int i)
        {
            Int128 sum = 0;
            ulong vi = core.Tasks[i].Se.Vruntime;
            foreach (int j in queued)
            {
                ulong wj = Math.Max(2UL, core.Tasks[j].Se.Weight >> 10);
                sum += (Int128)(long)(core.Tasks[j].Se.Vruntime - vi) * (Int128)wj;
            }
            return sum >= 0;
        }
        bool Earlier(int a, int b) => (long)(core.Tasks[a].Se.Deadline - core.Tasks[b].Se.Deadline) < 0;
        int c = curr >= 0 && queued.Contains(curr) && Eligible(curr) ? curr : -1;
        if (c >= 0 && (ulong)core.Tasks[c].Se.Vlag == core.Tasks[c].Se.Deadline)
        {
            return c; // RUN_TO_PARITY: the slice picked at set_next_entity is protected
        }
        int best = -1;
        foreach (int i in queued)
        {
            if (i == curr || !Eligible(i))
            {
                continue;
            }
            if (best < 0 || Earlier(i, best) ||
                (core.Tasks[i].Se.Deadline == core.Tasks[best].Se.Deadline && fair.InsertionOrder(i) < fair.InsertionOrder(best)))
            {
                best = i;
            }
        }
        if (best < 0 || (c >= 0 && Earlier(c, best)))
        {
            best = c;
        }
        return best;
    }
}
