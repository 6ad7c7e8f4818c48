using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Programs.Sched;
using BpfSim.Scheduler.Ext;
using BpfSim.Scheduler.Tasks;

namespace BpfSim.Tests.Scheduler.Ext;

/// <summary>bpf_sched_ext_ops (kernel/sched/ext.c 6.12): layout, init_member, check_member, update, link mode.</summary>
public class SchedExtOpsTypeTests
{
    private static (ExtRig Rig, SchedExtOpsType Type) Rig() { var r = new ExtRig(cpus: 2); return (r, r.Type); }

    private static BpfResult Init(SchedExtOpsType type, string member, ReadOnlySpan<byte> value)
    {
        var m = type.FindMember(member)!;
        var user = new byte[m.Size];
        value.CopyTo(user);
        return type.InitMember(m, user, new byte[m.Size], out bool handled) is var r && handled ? r : BpfResult.Fail(Errno.ENOENT, "not handled");
    }

    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }

    private static byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }

    [Test]
    public void Layout_IsTheKernels_WithCgroupMembers()
    {
        var (_, type) = Rig();
        Assert.That(type.Members.Select(m => m.Name).Take(3), Is.EqualTo(new[] { "select_cpu", "enqueue", "dequeue" }));
        Assert.That(type.FindMember("cgroup_init")!.Index, Is.EqualTo(23));
        Assert.That(type.FindMember("init")!.Offset, Is.EqualTo(31 * 8));
        Assert.That(type.FindMember("dispatch_max_batch")!.Offset, Is.EqualTo(33 * 8));
        Assert.That(type.FindMember("flags")!.Offset, Is.EqualTo(33 * 8 + 8));
        Assert.That(type.FindMember("timeout_ms")!.Offset, Is.EqualTo(33 * 8 + 16));
        Assert.That(type.FindMember("exit_dump_len")!.Offset, Is.EqualTo(33 * 8 + 20));
        Assert.That(type.FindMember("hotplug_seq")!.Offset, Is.EqualTo(33 * 8 + 24));
        Assert.That(type.FindMember("name")!.Offset, Is.EqualTo(33 * 8 + 32));
        Assert.That(type.DataSize, Is.EqualTo(33 * 8 + 32 + 128));
        // The value is {common, data ____cacheline_aligned_in_smp}: 64 + 424 bytes, rounded up to 512.
        Assert.That(type.ValueSize, Is.EqualTo(512));
    }

    [Test]
    public void DispatchMaxBatchAboveIntMax_IsE2big()
    {
        var (_, type) = Rig();
        Assert.That(Init(type, "dispatch_max_batch", U32(int.MaxValue)).IsOk, Is.True);
        Assert.That(Init(type, "dispatch_max_batch", U32((uint)int.MaxValue + 1)).Errno, Is.EqualTo(Errno.E2BIG));
    }

    [Test]
    public void UnknownFlagBits_AreEinval()
    {
        var (_, type) = Rig();
        Assert.That(Init(type, "flags", U64((ulong)ScxOpsFlags.All)).IsOk, Is.True);
        Assert.That(Init(type, "flags", U64(1UL << 4)).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void TimeoutAbove30s_IsE2big()
    {
        var (_, type) = Rig();
        Assert.That(Init(type, "timeout_ms", U32(30_000)).IsOk, Is.True);
        Assert.That(Init(type, "timeout_ms", U32(30_001)).Errno, Is.EqualTo(Errno.E2BIG));
    }

    [TestCase("", Errno.EINVAL)]
    [TestCase("bad name", Errno.EINVAL)]
    [TestCase("simple.v2_x", Errno.None)]
    public void Name_MustBeValidAndNonEmpty(string name, Errno expected)
    {
        var (_, type) = Rig();
        Assert.That(Init(type, "name", System.Text.Encoding.ASCII.GetBytes(name + "\0")).Errno, Is.EqualTo(expected));
    }

    [Test]
    public void NameWithoutNul_IsEinval()
    {
        var (_, type) = Rig();
        Assert.That(Init(type, "name", Enumerable.Repeat((byte)'a', 128).ToArray()).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void ExitDumpLenZero_BecomesTheDefault()
    {
        var (_, type) = Rig();
        var m = type.FindMember("exit_dump_len")!;
        var k = new byte[4];
        type.InitMember(m, U32(0), k, out _);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(k), Is.EqualTo(32768u));
    }

    [TestCase("enqueue", false)]
    [TestCase("dispatch", false)]
    [TestCase("init", true)]
    [TestCase("init_task", true)]
    [TestCase("exit", true)]
    [TestCase("cpu_online", true)]
    public void SleepablePrograms_OnlyForInitExitInitTaskCpuHotplug(string member, bool allowed)
    {
        var (rig, type) = Rig();
        var m = type.FindMember(member)!;
        var body = m.Signature == typeof(TaskFlagsFn) ? (Delegate)(TaskFlagsFn)((ref TaskStruct p, ulong f) => { })
            : m.Signature == typeof(DispatchFn) ? (DispatchFn)((int c, ref TaskStruct p) => { })
            : m.Signature == typeof(InitFn) ? (InitFn)(() => 0)
            : m.Signature == typeof(InitTaskFn) ? (InitTaskFn)((ref TaskStruct p, in ScxInitTaskArgs a) => 0)
            : m.Signature == typeof(ExitFn) ? (ExitFn)(_ => { })
            : (CpuFn)(_ => { });
        var r = rig.Bpf.ProgLoad(new ProgramSpec
        {
            Type = ProgramType.StructOps, Name = "p", StructOpsType = type.Name, Member = member, Sleepable = true, Body = body,
        }, out _);
        Assert.That(r.IsOk, Is.EqualTo(allowed), r.ToString());
        if (!allowed)
        {
            Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(r.Reason, Does.Contain($"attach to unsupported member {member} of struct sched_ext_ops"));
        }
    }

    [Test]
    public void LinkUpdate_IsEopnotsupp()
    {
        var rig = new ExtRig(cpus: 1);
        rig.Fork();
        var first = rig.LoadOk(new ScxSimple());
        StructOpsLoader.Load(rig.Bpf, new ScxStall(), out var second).ThrowIfFailed();
        var r = second!.ReplaceLinkOf(first);
        Assert.That(r.Errno, Is.EqualTo(Errno.EOPNOTSUPP));
        Assert.That(rig.Ext.Ops!.Name, Is.EqualTo("simple"));
    }

    [Test]
    public void LinkDetach_DisablesWithKindUnreg()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork();
        var s = new ScxSimple();
        var loaded = rig.LoadOk(s);
        rig.RunMs(50);
        Assert.That(loaded.Unregister().IsOk, Is.True);
        Assert.That(s.ExitInfo?.Kind, Is.EqualTo(ScxExitKind.Unreg));
        Assert.That(s.ExitInfo!.Reason, Is.EqualTo("unregistered from user space"));
        Assert.That(rig.ClassOf(a), Is.EqualTo("fifo"));
        Assert.That(rig.Ext.Enabled, Is.False);
        // One at a time, but one after another is fine.
        rig.LoadOk(new ScxSimple());
        Assert.That(rig.ClassOf(a), Is.EqualTo("ext"));
    }

    [Test]
    public void PlainMap_RegistersByUpdate_AsBpfScxRegIgnoresTheLink()
    {
        var rig = new ExtRig(cpus: 1);
        int a = rig.Fork();
        StructOpsLoader.Load(rig.Bpf, new PlainMapSimple(), out var loaded).ThrowIfFailed();
        Assert.That(loaded!.Map.IsLinkMode, Is.False);
        Assert.That(loaded.Register().IsOk, Is.True);
        Assert.That(rig.ClassOf(a), Is.EqualTo("ext"));
        Assert.That(loaded.Unregister().IsOk, Is.True);
        Assert.That(rig.ClassOf(a), Is.EqualTo("fifo"));
    }

    [Test]
    public void TimeoutFromTheConsumer_ReachesTheWatchdog()
    {
        var rig = new ExtRig(cpus: 1);
        rig.Fork();
        rig.LoadOk(new ScxStall { Timeout = 5000 });
        Assert.That(rig.Ext.WatchdogTimeoutJiffies, Is.EqualTo(5000UL));
    }

    [Test]
    public void TimeoutFromTheConsumerAbove30s_FailsTheLoadWithE2big()
    {
        var rig = new ExtRig(cpus: 1);
        var r = rig.Load(new ScxStall { Timeout = 40_000 }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.E2BIG));
    }
}

[StructOps(SchedExtOpsType.TypeName, Name = "plain")]
internal sealed class PlainMapSimple : SchedExtOpsProgram
{
    public override void Enqueue(ref TaskStruct p, ulong enqFlags) => Scx.Dispatch(ref p, Scx.DsqGlobal, Scx.SliceDfl, enqFlags);

    public override void Exit(ScxExitInfo info) => base.Exit(info);
}
