using BpfSim.Core.Simulation;
using BpfSim.Scheduler.Workloads;

namespace BpfSim.Tests.Scheduler.Workloads;

/// <summary>A task's stream held by value gives exactly <see cref="SimRandom"/>'s numbers, and the same samples.</summary>
public sealed class TaskRandomTests
{
    [TestCase(0UL, "sched:0:w:0")]
    [TestCase(42UL, "sched:3:sleepers:9999")]
    [TestCase(ulong.MaxValue, "")]
    [TestCase(7UL, "ünïcode name")]
    public void Stream_EqualsSimRandomFor(ulong seed, string name)
    {
        var shared = SimRandom.For(seed, name);
        var own = TaskRandom.For(seed, name);
        for (int i = 0; i < 10_000; i++)
        {
            Assert.That(own.NextUInt64(), Is.EqualTo(shared.NextUInt64()), $"draw {i}");
        }
    }

    [Test]
    public void Samples_EqualThoseFromSimRandom_ForEveryShape()
    {
        var shapes = new[]
        {
            new Distribution(DistributionKind.Exp, 200_000),
            new Distribution(DistributionKind.Uniform, 1_000, 3_000_000),
            new Distribution(DistributionKind.LogNormal, 10_000_000, 0.5),
            new Distribution(DistributionKind.Const, 5_000_000),
        };
        var shared = SimRandom.For(11, "sched:1:t:5");
        var own = TaskRandom.For(11, "sched:1:t:5");
        for (int i = 0; i < 4_000; i++)
        {
            var d = shapes[i % shapes.Length];
            Assert.That(d.SampleNs(ref own), Is.EqualTo(d.SampleNs(shared)), $"sample {i} of {d}");
        }
    }
}
