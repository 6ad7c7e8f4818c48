using System.Diagnostics;
using BpfSim.Programs.Sched;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// Hand-run measurement for docs/performance.md: the same workload under the C# ScxSimple and under scx_simple.bpf.o
/// (interpreted), wall time per scheduling event and per sched_ext callback.
/// </summary>
public sealed class SchedBytecodeCostTests
{
    [Test]
    [Explicit("a measurement, not a check: run by name and read the output")]
    public void Measure_CallbackCost_CSharpVsBytecode()
    {
        foreach (bool bytecode in new[] { false, true, false, true })
        {
            var rig = new ScxObjectRig(8);
            rig.StandardWorkload(hogs0: 12, hogs5: 8, sleepers: 16);
            if (bytecode)
            {
                Assert.That(rig.LoadObject(Programs.BpfObjects.PathOf("scx_simple.v3")).IsOk);
            }
            else
            {
                rig.LoadCSharp(new ScxSimple());
            }
            rig.RunMs(200);
            long events = rig.Kernel.SchedEvents;
            long runs = bytecode ? rig.Object.Programs.Values.Sum(p => p.RunCount) : 0;
            var sw = Stopwatch.StartNew();
            rig.RunMs(5_000);
            sw.Stop();
            long ev = rig.Kernel.SchedEvents - events;
            string extra = bytecode ? $", {rig.Object.Programs.Values.Sum(p => p.RunCount) - runs} program runs" : "";
            TestContext.Out.WriteLine($"{(bytecode ? "bytecode" : "C#      ")}: {ev} sched events in {sw.Elapsed.TotalMilliseconds:0} ms = {sw.Elapsed.TotalNanoseconds / ev:0} ns/event{extra}");
        }
    }
}
