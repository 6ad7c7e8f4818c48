using System.Buffers.Binary;
using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// bpfsim's own scx_simple.bpf.o (Programs/bpf/scx_simple.bpf.c, clang-14, v1 and v3) run by the interpreter as a
/// sched_ext scheduler: it links, tasks run in the ext class, and the same workload gives the same schedule as the C#
/// port ScxSimple, in vtime and FIFO mode (globals: fifo_sched); its exit info reaches the object's uei.
/// </summary>
public sealed class ScxSimpleObjectTests
{
    private static string Own(string name) => BpfObjects.PathOf(name);

    private static (string CSharp, string Object) RunBoth(string objectPath, bool fifo, int cpus = 2, long ms = 3_000, bool? csharpFifo = null)
    {
        var globals = new[] { new ConsumerGlobal("fifo_sched", fifo ? "true" : "false") };
        var a = new ScxObjectRig(cpus);
        a.StandardWorkload();
        a.LoadCSharp(new ScxSimple(), [new ConsumerGlobal("fifo_sched", (csharpFifo ?? fifo) ? "true" : "false")]);
        a.RunMs(ms);
        var b = new ScxObjectRig(cpus);
        b.StandardWorkload();
        var r = b.LoadObject(objectPath, globals);
        Assert.That(r.IsOk, r.ToString());
        b.RunMs(ms);
        Assert.That(b.Object.Programs["simple_enqueue"].RunCount, Is.GreaterThan(100), "the bytecode scheduled the tasks");
        Assert.That(b.Object.Programs["simple_stopping"].RunCount, Is.GreaterThan(100));
        Assert.That(a.Exits, Is.Empty);
        Assert.That(b.Exits, Is.Empty, () => string.Join("; ", b.Exits));
        return (a.Schedule(), b.Schedule());
    }

    [TestCase("scx_simple", false)]
    [TestCase("scx_simple", true)]
    [TestCase("scx_simple.v3", false)]
    [TestCase("scx_simple.v3", true)]
    public void SameWorkload_SameScheduleAsTheCSharpPort(string name, bool fifo)
    {
        var (cs, obj) = RunBoth(Own(name), fifo);
        Assert.That(obj.Split('\n').Length, Is.GreaterThan(100), "the run scheduled many slices");
        Assert.That(obj, Is.EqualTo(cs));
    }

    [Test]
    public void OtherMode_OtherSchedule_SoTheComparisonSeesDifferences()
    {
        var (cs, obj) = RunBoth(Own("scx_simple"), fifo: false, csharpFifo: true);
        Assert.That(obj, Is.Not.EqualTo(cs));
    }

    [Test]
    public void Linked_TasksRunInTheExtClass_AndTheStatsMapCounts()
    {
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(Own("scx_simple")).IsOk);
        rig.RunMs(500);
        Assert.That(rig.Kernel.ClassOf(rig.Task(0)).Name, Is.EqualTo("ext"));
        Assert.That(rig.Ext.Enabled, Is.True);
        // stats: PERCPU_ARRAY[2] {local, global}; user space sums the CPUs' slots.
        var (_, fd, map) = rig.Object.Maps.Single(m => m.Name == "stats");
        long Sum(uint key)
        {
            var value = new byte[map.ValueSize * rig.Bpf.Cpus.Count];
            var k = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(k, key);
            rig.Bpf.MapLookupElem(fd, k, value).ThrowIfFailed();
            long n = 0;
            for (int cpu = 0; cpu < rig.Bpf.Cpus.Count; cpu++)
            {
                n += BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(cpu * 8));
            }
            return n;
        }
        Assert.That(Sum(1), Is.GreaterThan(0), "enqueue counted global queueing");
        Assert.That(Sum(0) + Sum(1), Is.GreaterThan(10));
    }

    [Test]
    public void Unregister_ExitInfoReachesTheObjectsUei()
    {
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(Own("scx_simple")).IsOk);
        rig.RunMs(100);
        Assert.That(rig.Loaded!.Unregister().IsOk);
        rig.RunMs(10);

        Assert.That(rig.Exits.Single().Kind, Is.EqualTo(ScxExitKind.Unreg));
        var (kind, code, reason, msg) = Uei(rig);
        Assert.That(kind, Is.EqualTo((int)ScxExitKind.Unreg));
        Assert.That(code, Is.EqualTo(rig.Exits[0].ExitCode));
        Assert.That(reason, Is.EqualTo(rig.Exits[0].Reason));
        Assert.That(msg, Is.EqualTo(rig.Exits[0].Message));
        Assert.That(reason, Is.Not.Empty);
        Assert.That(rig.Kernel.ClassOf(rig.Task(0)).Name, Is.Not.EqualTo("ext"), "tasks went back to the fair class");
    }

    [TestCase("scx_simple")]
    [TestCase("scx_simple.v3")]
    public void ErrorExit_DebugDumpReachesUeiDump_SizedAsUeiSetSize(string name)
    {
        var rig = new ScxObjectRig(2);
        rig.StandardWorkload();
        Assert.That(rig.LoadObject(Own(name)).IsOk);
        rig.RunMs(50);
        // The exit-dump buffer was sized before load as SCX_OPS_LOAD's UEI_SET_SIZE does (exit_dump_len 0 → 32768).
        var dumpMap = rig.Object.Maps.Single(m => m.Name == ".data.uei_dump").Map;
        Assert.That(dumpMap.ValueSize, Is.EqualTo(32768u));

        rig.Ext.ErrorExit(ScxExitKind.Error, 0, "injected by the test");
        rig.RunMs(10);

        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(exit.Dump, Is.Not.Empty);
        var (kind, _, _, msg) = Uei(rig);
        Assert.That((kind, msg), Is.EqualTo(((int)ScxExitKind.Error, "injected by the test")));
        var (_, fd, map) = rig.Object.Maps.Single(m => m.Name == ".data.uei_dump");
        var value = new byte[map.ValueSize];
        rig.Bpf.MapLookupElem(fd, new byte[4], value).ThrowIfFailed();
        string dump = Encoding.UTF8.GetString(value, 0, Array.IndexOf(value, (byte)0));
        Assert.That(dump, Is.EqualTo(exit.Dump.Length > 32767 ? exit.Dump[..32767] : exit.Dump));
    }

    /// <summary>The object's <c>uei</c> (struct user_exit_info in .data) as UEI_REPORT reads it.</summary>
    internal static (int Kind, long ExitCode, string Reason, string Msg) Uei(ScxObjectRig rig)
    {
        var obj = rig.Object;
        var (_, fd, map) = obj.Maps.Single(m => m.Name == ".data");
        var value = new byte[map.ValueSize];
        rig.Bpf.MapLookupElem(fd, new byte[4], value).ThrowIfFailed();
        var v = obj.Spec.DataSections.Single(d => d.Name == ".data").Variables.Single(x => x.Name == "uei");
        var u = value.AsSpan((int)v.Offset, (int)v.Size);
        static string Str(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s[..Math.Max(0, s.IndexOf((byte)0))]);
        return (BinaryPrimitives.ReadInt32LittleEndian(u), BinaryPrimitives.ReadInt64LittleEndian(u[8..]), Str(u.Slice(16, 128)), Str(u.Slice(144, 1024)));
    }
}
