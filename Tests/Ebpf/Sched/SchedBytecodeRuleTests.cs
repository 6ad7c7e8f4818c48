using BpfSim.Core.Bpf;
using BpfSim.Scheduler.Ext;
using BpfSim.Tests.Ebpf.Loading;

namespace BpfSim.Tests.Ebpf.Sched;

/// <summary>
/// The rules of the bytecode side of sched_ext, each with a scheduler of Tests/Ebpf/Sched/src/scx_probe.bpf.c built
/// at test time: task_struct writes (bpf_scx_btf_struct_access), scx_bpf_error's bstr formatting and its exit kind,
/// weak kfuncs resolving to 0 when absent and the 6.13 names present, NULL prev in dispatch, a fault ejecting the
/// scheduler with every task back in the fair class.
/// </summary>
[Category("Ebpf")]
public sealed class SchedBytecodeRuleTests
{
    private string _dir = "";
    private string _obj = "";

    [OneTimeSetUp]
    public void Build()
    {
        _dir = SchedClang.TempDir();
        var (code, output) = SchedClang.CompileTestScheduler(_dir, "scx_probe", out _obj);
        Assert.That(code, Is.Zero, output);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private ScxObjectRig Rig(string variable, out BpfResult result, int cpus = 2, int hogs = 2)
    {
        var rig = new ScxObjectRig(cpus);
        rig.StandardWorkload(hogs0: hogs, hogs5: 1, sleepers: 2);
        result = rig.LoadObject(_obj, variable: variable);
        return rig;
    }

    [Test]
    public void WriteToPid_RefusedAtLoad_WithEacces()
    {
        Rig("bad_write", out var r);
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES), r.ToString());
        Assert.That(r.Reason, Does.Contain("task_struct"));
    }

    [Test]
    public void ScxBpfError_FormatsTheMessage_AndEjectsWithErrorBpf()
    {
        var rig = Rig("errs", out var r);
        Assert.That(r.IsOk, r.ToString());
        rig.RunMs(100);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.ErrorBpf));
        Assert.That(exit.Message, Does.Match(@"^enqueue (hog0_0|hog0_1|hog5_0|sw_0|sw_1)\[\d+\]$"), exit.Message);
        Assert.That(rig.Ext.Enabled, Is.False);
        Assert.That(rig.Kernel.ClassOf(rig.Task(0)).Name, Is.Not.EqualTo("ext"));
    }

    [TestCase("bad_exit", "format preparation failed (-22)", TestName = "BstrFormat_MoreConversionsThanArgs_InScxBpfExit_IsErrorExit_NotUnregBpf")]
    [TestCase("bad_h", "format preparation failed (-22)", TestName = "BstrFormat_HSizeModifier_IsRefused_ErrorExit")]
    public void BstrFormat_RefusedFormat_EjectsWithScxExitError(string variable, string message)
    {
        // __bstr_format (kernel/sched/ext.c): bpf_bprintf_prepare fails with -EINVAL, scx_ops_error reports it, and
        // scx_bpf_exit_bstr / scx_bpf_error_bstr skip their own exit (UNREG_BPF / ERROR_BPF).
        var rig = Rig(variable, out var r);
        Assert.That(r.IsOk, r.ToString());
        rig.RunMs(50);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.Error));
        Assert.That(exit.Reason, Is.EqualTo("runtime error"));
        Assert.That(exit.Message, Is.EqualTo(message));
        Assert.That(exit.ExitCode, Is.Zero, "the exit code scx_bpf_exit asked for is not recorded");
    }

    [Test]
    public void BstrFormat_DataSizeNotAMultipleOf8_InvalidDataError()
    {
        var rig = Rig("bad_size", out var r);
        Assert.That(r.IsOk, r.ToString());
        rig.RunMs(50);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.Error));
        // "invalid data=%p and data__sz=%u": the stack address as a hashed %p (16 hex digits).
        Assert.That(exit.Message, Does.Match("^invalid data=[0-9a-f]{16} and data__sz=12$"), exit.Message);
    }

    [Test]
    public void BstrFormat_PlainPointer_NullRawOthersHashed_PxRaw_PlusFlag()
    {
        // lib/vsprintf.c: %p prints NULL as is and hashes other pointers to 32 bits (bpfsim: hash_long(p, 32), the
        // debug_boot_weak_hash hash: 0x1000 * GOLDEN_RATIO_64 >> 32 = 0x8864680b); %px prints the raw value.
        var rig = Rig("ptrs", out var r);
        Assert.That(r.IsOk, r.ToString());
        rig.RunMs(50);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.ErrorBpf));
        Assert.That(exit.Message, Is.EqualTo("0000000000000000 000000008864680b 0000000000001000 +5"));
    }

    [Test]
    public void WeakKfuncs_AbsentOneIsZero_613NamesWork_NullPrev_SliceWritable()
    {
        // One hog and two sleepers on two CPUs: a CPU goes idle, and its next dispatch has no previous ext task.
        var rig = Rig("weak", out var r, hogs: 0);
        Assert.That(r.IsOk, r.ToString());
        rig.RunMs(300);
        Assert.That(rig.Exits, Is.Empty, () => string.Join("; ", rig.Exits));
        var g = BssGlobals.Read(rig.Bpf, rig.Object);
        Assert.Multiple(() =>
        {
            Assert.That(g.Int("has_insert"), Is.EqualTo(1), "scx_bpf_dsq_insert (6.13) exists");
            Assert.That(g.Int("has_nope"), Is.EqualTo(0), "a weak kfunc the kernel lacks is NULL (bpf_ksym_exists false)");
            Assert.That(g.Int("nr_cpus"), Is.EqualTo(2));
            Assert.That(g.Int("enqueues"), Is.GreaterThan(10));
            Assert.That(g.Int("mask_ok"), Is.EqualTo(g.Int("enqueues")), "p->cpus_ptr points at the task's cpus_mask");
            Assert.That(g.Int("task_cpu_ok"), Is.EqualTo(g.Int("enqueues")), "scx_bpf_task_cpu == p->thread_info.cpu");
            Assert.That(g.Int("null_prevs"), Is.GreaterThan(0), "dispatch from an idle CPU has prev NULL");
            Assert.That(g.Int("slice_seen"), Is.GreaterThan(0), "the slice given by dsq_insert reaches running");
        });
        // running wrote scx.slice = 3 ms: a task's slice is never above it after running.
        Assert.That(rig.Task(0).Scx.Slice, Is.LessThanOrEqualTo(3_000_000UL));
    }

    [Test]
    public void MemoryFault_EjectsTheScheduler_TasksBackToFair()
    {
        var rig = Rig("fault", out var r);
        Assert.That(r.IsOk, r.ToString());
        rig.RunMs(100);
        var exit = rig.Exits.Single();
        Assert.That(exit.Kind, Is.EqualTo(ScxExitKind.Error));
        TestContext.Out.WriteLine(exit.Message);
        Assert.That(exit.Message, Does.Contain("running"));
        Assert.That(rig.Ext.Enabled, Is.False);
        rig.RunMs(100);
        rig.Kernel.Finish();
        Assert.That(rig.Kernel.Metrics.Runtime(0), Is.GreaterThan(0), "the run goes on with the fair class");
    }
}
