using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Core.Bpf.StructOps;

/// <summary>Consumers as plug-ins: loading like libbpf, transactions, the catalog, DI and external assemblies.</summary>
[Category("StructOps")]
public sealed class ConsumerLoaderTests
{
    public abstract class TestOpsProgram
    {
        [StructOpsMember("init")]
        public virtual int Init() => 0;

        [StructOpsMember("run")]
        public virtual ulong Run(ulong arg) => arg;

        [StructOpsMember("unsupported")]
        public virtual int Unsupported() => 0;
    }

    [StructOps("test_ops", Name = "doubler", Flags = 1)]
    public sealed class Doubler : TestOpsProgram
    {
        public override int Init() => 0;

        public override ulong Run(ulong arg) => arg * 2;
    }

    [StructOps("test_ops", Name = "linked", Link = true)]
    public sealed class Linked : TestOpsProgram
    {
        public override int Init() => 0;
    }

    [StructOps("test_ops", Name = "bad_member")]
    public sealed class UsesUnsupported : TestOpsProgram
    {
        public override int Init() => 0;

        public override ulong Run(ulong arg) => arg;

        public override int Unsupported() => 1;
    }

    [StructOps("test_ops", Name = "wrong_sig")]
    public sealed class WrongSignature
    {
        [StructOpsMember("run")]
        public int Run(int arg) => arg;
    }

    [StructOps("nope_ops", Name = "orphan")]
    public sealed class Orphan
    {
    }

    [Test]
    public void Load_CreatesProgramsForOverriddenMembersOnly_AndAMap()
    {
        var (bpf, type) = TestOps.NewSystem();
        Assert.That(StructOpsLoader.Load(bpf, new Doubler(), out var loaded).IsOk);
        Assert.That(loaded!.ProgramFds, Has.Count.EqualTo(2), "init and run; unsupported was not overridden");
        Assert.That(loaded.Map.State, Is.EqualTo(StructOpsState.Init));
        Assert.That(loaded.Register().IsOk);
        var user = type.Subsystem.Adopt("doubler")!;
        Assert.That(type.Subsystem.Run(bpf, user, 0, 21), Is.EqualTo(42));
        Assert.That(loaded.Map.KernelData!.ReadUInt32("flags"), Is.EqualTo(1));
    }

    [Test]
    public void Load_LinkMode_RegisterCreatesLink_UnregisterDetaches()
    {
        var (bpf, type) = TestOps.NewSystem();
        StructOpsLoader.Load(bpf, new Linked(), out var loaded).ThrowIfFailed();
        loaded!.Register().ThrowIfFailed();
        Assert.That(loaded.LinkFd, Is.GreaterThan(0));
        Assert.That(type.Subsystem.Current.Keys, Is.EqualTo(new[] { "linked" }));
        loaded.Unregister().ThrowIfFailed();
        Assert.That(type.Subsystem.Current, Is.Empty);
        Assert.That(loaded.Map.State, Is.EqualTo(StructOpsState.Ready));
    }

    [Test]
    public void Load_FailingProgram_ClosesEverythingItCreated()
    {
        var (bpf, _) = TestOps.NewSystem();
        int fdsBefore = bpf.Caller.OpenFds;
        var r = StructOpsLoader.Load(bpf, new UsesUnsupported(), out var loaded);
        Assert.That(r.Errno, Is.EqualTo(Errno.ENOTSUPP));
        Assert.That(loaded, Is.Null);
        Assert.That(bpf.Caller.OpenFds, Is.EqualTo(fdsBefore));
        Assert.That(bpf.Objects.Count(BpfObjectKind.Program), Is.Zero);
        Assert.That(bpf.Objects.Count(BpfObjectKind.Map), Is.Zero);
    }

    [Test]
    public void Load_MethodOfWrongSignature_EINVAL_NamingBoth()
    {
        var (bpf, _) = TestOps.NewSystem();
        var r = StructOpsLoader.Load(bpf, new WrongSignature(), out _);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("wrong_sig.Run").And.Contain("TestRunFn"));
    }

    [Test]
    public void Load_UnknownType_ENOTSUPP()
    {
        var (bpf, _) = TestOps.NewSystem();
        Assert.That(StructOpsLoader.Load(bpf, new Orphan(), out _).Errno, Is.EqualTo(Errno.ENOTSUPP));
    }

    [Test]
    public void Dispose_ClosesFds_PlainRegistrationSurvives()
    {
        var (bpf, type) = TestOps.NewSystem();
        StructOpsLoader.Load(bpf, new Doubler(), out var loaded).ThrowIfFailed();
        loaded!.Register().ThrowIfFailed();
        loaded.Dispose();
        Assert.That(bpf.Caller.OpenFds, Is.Zero);
        Assert.That(type.Subsystem.Current.Keys, Is.EqualTo(new[] { "doubler" }), "as in the kernel, until key 0 is deleted");
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(1));
    }

    [Test]
    public void Catalog_RejectsNonConsumersAndDuplicateNames()
    {
        var catalog = new ConsumerCatalog();
        catalog.Add(typeof(Doubler), "test");
        Assert.Throws<InvalidOperationException>(() => catalog.Add(typeof(Doubler), "again"));
        Assert.Throws<ArgumentException>(() => catalog.Add(typeof(string), "test"));
        Assert.That(catalog.Find("doubler")!.StructOpsType, Is.EqualTo("test_ops"));
    }

    [Test]
    public void DependencyInjection_ComposesRuntimeTcpAndBuiltins()
    {
        var sys = new TcpTestSystem();
        Assert.That(sys.Bpf.StructOpsTypes.Select(t => t.Name), Is.EqualTo(new[] { "tcp_congestion_ops" }));
        Assert.That(sys.Catalog.All.Select(c => c.Name), Does.Contain("bpf_minimal"));
    }

    private static string ExternalDll()
    {
        string config = typeof(ConsumerLoaderTests).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        string root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(ConsumerLoaderTests).Assembly.Location)!, "../../../"));
        return Path.Combine(root, "ExternalConsumer", "bin", config, "net10.0", "MyCc.dll");
    }

    [Test]
    public void ExternalAssembly_LoadsRegistersAndRuns()
    {
        var sys = new TcpTestSystem();
        var found = ConsumerAssemblyLoader.LoadInto(sys.Catalog, ExternalDll());
        Assert.That(found.Select(c => c.Name), Is.EqualTo(new[] { "my_cc" }));
        var loaded = sys.Register(ConsumerCatalog.Create(found[0]));
        sys.Registry.TryAcquire("my_cc", out var ca).ThrowIfFailed();
        var sk = TcpTestSystem.Socket(cwnd: 100);
        ca.Init!(ref sk);
        Assert.That(sk.SndCwndClamp, Is.EqualTo(1000), "init ran");
        Assert.That(ca.Ssthresh!(ref sk), Is.EqualTo(70), "its own ssthresh ran");
        Assert.That(loaded.Map.ReportedRefCount, Is.EqualTo(2));
        Assert.That(ConsumerAssemblyLoader.LoadInto(sys.Catalog, ExternalDll()), Has.Count.EqualTo(1), "loading twice is idempotent");
    }

    private sealed class ThrowingConsumer
    {
        public ThrowingConsumer() => throw new InvalidOperationException("no config file");
    }

    [Test]
    public void Create_ConstructorThrows_IsAConsumerLoadErrorNamingTheConsumer()
    {
        var info = new ConsumerInfo("broken_cc", "tcp_congestion_ops", typeof(ThrowingConsumer), "test", "", Link: false, "broken_cc");
        var e = Assert.Throws<ConsumerLoadException>(() => ConsumerCatalog.Create(info));
        Assert.That(e!.Message, Is.EqualTo("broken_cc: its constructor failed: InvalidOperationException: no config file"));
    }

    [Test]
    public void ExternalAssembly_Errors_NameTheFileAndCause()
    {
        var catalog = new ConsumerCatalog();
        Assert.That(Assert.Throws<ConsumerLoadException>(() => ConsumerAssemblyLoader.LoadInto(catalog, "/nonexistent/x.dll"))!.Message,
            Does.Contain("no such file"));
        string garbage = Path.Combine(Path.GetTempPath(), $"bpfsim-garbage-{Guid.NewGuid():N}.dll");
        File.WriteAllText(garbage, "not an assembly");
        try
        {
            Assert.That(Assert.Throws<ConsumerLoadException>(() => ConsumerAssemblyLoader.LoadInto(catalog, garbage))!.Message,
                Does.Contain("not a .NET assembly"));
        }
        finally
        {
            File.Delete(garbage);
        }
        string noConsumers = Path.Combine(Path.GetDirectoryName(ExternalDll())!, "BpfSim.Core.dll");
        Assert.That(Assert.Throws<ConsumerLoadException>(() => ConsumerAssemblyLoader.LoadInto(catalog, noConsumers))!.Message,
            Does.Contain("no class marked [StructOps]"));
    }
}
