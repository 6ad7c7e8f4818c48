using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

/// <summary>The per-packet paths of the Linux qdiscs allocate nothing once their arrays have grown (DESIGN §3).</summary>
[Category("Tcp")]
public sealed class QueueAllocationTests
{
    private sealed class Rate : ISocketPacing
    {
        public ulong PacingRate(int flow) => 1_000_000_000;

        public void SetPacingFq(int flow)
        {
        }
    }

    private static IEnumerable<TestCaseData> Queues()
    {
        yield return new TestCaseData(new Func<QueueDiscipline>(() => new CodelQueue(CodelParams.Default with { Ecn = true }))).SetName("Codel");
        yield return new TestCaseData(new Func<QueueDiscipline>(() => new FqCodelQueue(new FqCodelOptions(), SimRandom.For(1, "q")))).SetName("FqCodel");
        yield return new TestCaseData(new Func<QueueDiscipline>(() => new PieQueue(new PieOptions { Ecn = true }, SimRandom.For(1, "q")))).SetName("Pie");
        yield return new TestCaseData(new Func<QueueDiscipline>(() =>
        {
            var fq = new FqQueue(new FqOptions());
            fq.AttachSockets(new Rate());
            return fq;
        })).SetName("Fq");
    }

    [TestCaseSource(nameof(Queues))]
    public void EnqueueDequeue_SteadyState_AllocatesNothing(Func<QueueDiscipline> make)
    {
        var queue = make();
        var pool = new PacketPool(4096);
        long now = 0;
        void Cycle(int rounds)
        {
            for (int r = 0; r < rounds; r++)
            {
                for (int i = 0; i < 8; i++)
                {
                    int p = pool.Allocate();
                    ref var packet = ref pool[p];
                    packet.Flow = i;
                    packet.SizeBytes = 1514;
                    packet.Ecn = EcnCodepoint.Ect0;
                    if (queue.Enqueue(pool, p, now) == QueueVerdict.Dropped)
                    {
                        pool.Free(p);
                    }
                }
                for (int i = 0; i < 7; i++)
                {
                    now += 20_000; // one fewer than arrived: the queue stands, then hits its limit
                    int p = queue.Dequeue(pool, now);
                    if (p >= 0)
                    {
                        pool.Free(p);
                    }
                    else if (queue.NextEligibleNs != long.MaxValue)
                    {
                        now = queue.NextEligibleNs;
                    }
                }
            }
        }
        Cycle(20_000);
        long drops = queue.Drops;
        Assert.That(SteadyState.AllocatedBytes(() => Cycle(20_000)), Is.Zero);
        Assert.That(queue.Drops, Is.GreaterThan(drops), "the measured rounds went through the drop paths too");
    }
}
