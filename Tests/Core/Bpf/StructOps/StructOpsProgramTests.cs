using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Programs;
using static BpfSim.Tests.Core.Bpf.StructOps.TestOps;

namespace BpfSim.Tests.Core.Bpf.StructOps;

/// <summary>BPF_PROG_LOAD checks for struct_ops programs (check_struct_ops_btf_id in kernel/bpf/verifier.c).</summary>
[Category("StructOps")]
public sealed class StructOpsProgramTests
{
    private static BpfResult Load(BpfSystem bpf, string? type, string? member, Delegate? body, string license = "GPL", bool sleepable = false) =>
        bpf.ProgLoad(new ProgramSpec
        {
            Type = ProgramType.StructOps, Name = "p", StructOpsType = type, Member = member, Body = body, License = license, Sleepable = sleepable,
        }, out _);

    [Test]
    public void NonGplLicense_EINVAL_WithKernelMessage()
    {
        var (bpf, _) = NewSystem();
        var r = Load(bpf, "test_ops", "init", (TestInitFn)(() => 0), license: "X");
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("struct ops programs must have a GPL compatible license"));
    }

    [Test]
    public void UnknownType_ENOTSUPP() =>
        Assert.That(Load(NewSystem().Bpf, "nope_ops", "init", (TestInitFn)(() => 0)).Errno, Is.EqualTo(Errno.ENOTSUPP));

    [TestCase("nope")]
    [TestCase("name")]
    public void UnknownOrDataMember_EINVAL(string member) =>
        Assert.That(Load(NewSystem().Bpf, "test_ops", member, (TestInitFn)(() => 0)).Errno, Is.EqualTo(Errno.EINVAL));

    [Test]
    public void UnsupportedMember_ENOTSUPP_AttachToUnsupportedMember()
    {
        var r = Load(NewSystem().Bpf, "test_ops", "unsupported", (TestInitFn)(() => 0));
        Assert.That(r.Errno, Is.EqualTo(Errno.ENOTSUPP));
        Assert.That(r.Reason, Does.Contain("attach to unsupported member unsupported of struct test_ops"));
    }

    [Test]
    public void BodyOfWrongSignature_EINVAL()
    {
        var r = Load(NewSystem().Bpf, "test_ops", "run", (TestInitFn)(() => 0));
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("TestRunFn"));
        Assert.That(Load(NewSystem().Bpf, "test_ops", "run", null).Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void Sleepable_OnlyWhereTheMemberAllowsIt()
    {
        var (bpf, _) = NewSystem();
        Assert.That(Load(bpf, "test_ops", "init", (TestInitFn)(() => 0), sleepable: true).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(Load(bpf, "test_ops", "release", (TestReleaseFn)(() => { }), sleepable: true).IsOk);
    }

    [Test]
    public void OtherProgramTypes_AreRefusedWithAReason()
    {
        var r = NewSystem().Bpf.ProgLoad(new ProgramSpec { Type = ProgramType.Tracing, Name = "x" }, out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("struct_ops"));
    }

    [Test]
    public void Loaded_HasIdNameTypeAndMember_GetFdById()
    {
        var (bpf, _) = NewSystem();
        int fd = LoadProgram(bpf, "run", (TestRunFn)(x => x));
        bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).ThrowIfFailed();
        Assert.That(info, Is.EqualTo(new BpfProgInfo(info.Id, "struct_ops", "run", "test_ops", "run", 0, 0)));
        Assert.That(bpf.ProgGetFdById(info.Id, out int fd2).IsOk);
        Assert.That(fd2, Is.Not.EqualTo(fd));
        Assert.That(bpf.ProgGetFdById(999, out _).Errno, Is.EqualTo(Errno.ENOENT));
    }

    [Test]
    public void Stats_WhenEnabled_CountRuns()
    {
        var (bpf, type) = NewSystem();
        bpf.StatsEnabled = true;
        int map = CreateMap(bpf);
        bpf.MapUpdateElem(map, Key0, StandardValue(bpf, "alpha")).ThrowIfFailed();
        var user = type.Subsystem.Adopt("alpha")!;
        for (int i = 0; i < 5; i++)
        {
            type.Subsystem.Run(bpf, user, 0, 1);
        }
        var run = user.Data.Program("run")!;
        Assert.That(run.RunCount, Is.EqualTo(5));
        Assert.That(user.Data.Program("init")!.RunCount, Is.Zero);
    }
}
