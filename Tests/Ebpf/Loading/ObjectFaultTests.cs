using BpfSim.Core.Workloads;
using System.Text.RegularExpressions;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Stack;
using BpfSim.Tcp.Workloads;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// The misbehaving struct_ops variables of Tests/Ebpf/objects/tcp_ca_faults: those the kernel (or libbpf) refuses at
/// load come back as a BpfResult with the kernel's errno and words; those that misbehave at run time fault, are
/// ejected, and the run goes on without them.
/// </summary>
public sealed class ObjectFaultTests
{
    private const string Faults = "tcp_ca_faults";

    /// <summary>Loads variable <paramref name="name"/> of <paramref name="objectName"/> into a fresh kernel, as a scenario entry with <c>map:</c> does.</summary>
    private static BpfResult Load(string name, out LoadedStructOps? loaded, string objectName = Faults)
    {
        var system = new TcpTestSystem();
        var info = ConsumerObjectLoader.LoadInto(system.Catalog, TestObjects.PathOf(objectName)).Single(i => i.Name == name);
        return ConsumerLoading.Load(system.Bpf, info, out loaded);
    }

    private static int TcpSockOffsetOf(string member) =>
        TcpKernelTypes.Fields.Single(f => f.Struct == "tcp_sock" && f.Member == member).Offset;

    // ---- refused at load ----

    [TestCase(Faults)]
    [TestCase(Faults + ".v3")]
    public void WriteToSndUna_RefusedEACCES_WithBtfStructAccessMessage(string objectName)
    {
        var r = Load("bad_write", out var loaded, objectName);

        Assert.That(loaded, Is.Null);
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        Assert.That(r.Reason, Does.StartWith("BPF_PROG_LOAD: "));
        // bpf_tcp_ca_btf_struct_access (net/ipv4/bpf_tcp_ca.c), at the offset in bpfsim's tcp_sock.
        Assert.That(r.Reason, Does.Contain($"prog 'bad_write_cong_avoid': no write support to tcp_sock at off {TcpSockOffsetOf("snd_una")}"));
    }

    [TestCase(Faults)]
    [TestCase(Faults + ".v3")]
    public void LookupUsedWithoutNullCheck_RefusedEACCES_WithVerifierMessage(string objectName)
    {
        var r = Load("no_null", out var loaded, objectName);

        Assert.That(loaded, Is.Null);
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        // check_mem_access (kernel/bpf/verifier.c): the load of *calls right after the call. Linux 6.18 refuses the
        // same C as an XDP program with these words.
        Assert.That(r.Reason, Does.EndWith("prog 'no_null_cong_avoid': R0 invalid mem access 'map_value_or_null' (insn 10)"));
    }

    [Test]
    public void HelperNotForStructOps_RefusedEINVAL_WithVerifierMessage()
    {
        var r = Load("bad_helper", out var loaded);

        Assert.That(loaded, Is.Null);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        // check_helper_call (kernel/bpf/verifier.c), the name as func_id_name gives it.
        Assert.That(r.Reason, Does.EndWith("prog 'bad_helper_cong_avoid': program of this type cannot use helper bpf_get_current_comm#16"));
    }

    [Test]
    public void MissingStrongKfunc_RefusedESRCH_WithLibbpfMessage()
    {
        var r = Load("bad_kfunc", out var loaded);

        Assert.That(loaded, Is.Null);
        Assert.That(r.Errno, Is.EqualTo(Errno.ESRCH));
        // bpf_object__resolve_ksym_func_btf_id (tools/lib/bpf/libbpf.c).
        Assert.That(r.Reason, Does.EndWith("extern (func ksym) 'bpfsim_no_such_kfunc': not found in kernel or module BTFs"));
    }

    [TestCase("tcp_ca_nogpl")]
    [TestCase("tcp_ca_nogpl.v3")]
    public void NonGplLicense_RefusedEINVAL_WithVerifierMessage(string objectName)
    {
        var r = Load("nogpl_ca", out var loaded, objectName);

        Assert.That(loaded, Is.Null);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        // check_struct_ops_btf_id (kernel/bpf/verifier.c).
        Assert.That(r.Reason, Does.Contain("struct ops programs must have a GPL compatible license"));
    }

    [TestCase("weak_kfunc")]
    [TestCase("oob_read")]
    [TestCase("spin")]
    [TestCase("printk")]
    [TestCase("ai_zero")]
    [TestCase("null_ok")]
    public void VariablesTheLoaderCannotFault_LoadAndRegister(string name)
    {
        var r = Load(name, out var loaded);

        Assert.That(r.IsOk, r.Reason);
        Assert.That(loaded!.Register().IsOk);
    }

    [TestCase(-32768, 8)]
    [TestCase(96, 8)]
    [TestCase(4, 8)]
    public void ContextReadOutsideTheArguments_RefusedEACCES(short offset, int size)
    {
        // faults_ssthresh begins with r1 = *(u64 *)(r1 + 0), its socket argument; move that read elsewhere.
        byte[] bytes = TestObjects.Bytes(Faults);
        var (section, _) = TestObjects.SectionExtent(bytes, "struct_ops");
        Assert.That(bytes[section], Is.EqualTo(0x79), "ldxdw");
        BitConverter.TryWriteBytes(bytes.AsSpan(section + 2, 2), offset);
        var system = new TcpTestSystem();

        var r = ObjectLoader.Load(system.Bpf, BpfSim.Core.Ebpf.Elf.ObjectReader.Read(bytes, "patched"), "patched", out _, autocreate: ["printk"]);

        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        // bpf_tracing_ctx_access refuses it; check_ctx_access says so (kernel/bpf/verifier.c).
        Assert.That(r.Reason, Does.EndWith($"prog 'faults_ssthresh': invalid bpf_context access off={offset} size={size} (insn 0)"));
    }

    // ---- which programs are loaded ----

    [Test]
    public void WholeObject_LoadedByDefault_RefusedByItsFirstBadProgram()
    {
        // libbpf's default: every struct_ops map is created, so every program they use is loaded.
        var system = new TcpTestSystem();
        var r = ObjectLoader.Load(system.Bpf, TestObjects.Read(Faults), "faults", out var obj);

        Assert.That(obj, Is.Null);
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        Assert.That(r.Reason, Does.Contain("bad_write_cong_avoid"));
        Assert.That(Enumerable.Range(1, 16).Where(id => system.Bpf.MapGetFdById((uint)id, out _).IsOk), Is.Empty,
            "the maps it created (.data, .bss, .rodata) were closed and freed");
    }

    [Test]
    public void Autocreate_LoadsOnlyThePickedVariablesPrograms()
    {
        var system = new TcpTestSystem();
        var spec = TestObjects.Read(Faults);

        var r = ObjectLoader.Load(system.Bpf, spec, "faults", out var obj, autocreate: ["printk"]);

        Assert.That(r.IsOk, r.Reason);
        Assert.That(obj!.Programs.Keys, Is.EquivalentTo(new[] { "faults_ssthresh", "printk_cong_avoid", "faults_undo_cwnd" }));
        // Another variable later: its programs load then, the shared ones are not loaded twice.
        r = ObjectLoader.LoadStructOpsPrograms(system.Bpf, obj, spec.StructOps.Single(v => v.Name == "spin"));
        Assert.That(r.IsOk, r.Reason);
        Assert.That(obj.Programs, Has.Count.EqualTo(4));
        r = ObjectLoader.LoadStructOpsPrograms(system.Bpf, obj, spec.StructOps.Single(v => v.Name == "bad_write"));
        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        Assert.That(obj.Programs, Has.Count.EqualTo(4), "what was loaded stays");
    }

    [Test]
    public void TwoVariablesOfOneObject_ShareItsGlobalData_BadOneRefusedAlone()
    {
        var system = new TcpTestSystem();
        var infos = ConsumerObjectLoader.LoadInto(system.Catalog, TestObjects.PathOf(Faults));

        var bad = ConsumerLoading.Load(system.Bpf, infos.Single(i => i.Name == "bad_kfunc"), out _);
        var spin = ConsumerLoading.Load(system.Bpf, infos.Single(i => i.Name == "spin"), out var a);
        var printk = ConsumerLoading.Load(system.Bpf, infos.Single(i => i.Name == "printk"), out var b);

        Assert.That(bad.Errno, Is.EqualTo(Errno.ESRCH));
        Assert.That((spin.IsOk, printk.IsOk), Is.EqualTo((true, true)));
        Assert.That(ConsumerLoading.Objects(system.Bpf), Has.Count.EqualTo(1), "one object, loaded once");
        Assert.That(a!.Register().IsOk && b!.Register().IsOk);
    }

    // ---- at run time ----

    private static TcpScenarioSpec Scenario(string variable, double seconds = 3) => new()
    {
        Seed = 3,
        Duration = new SimTime((long)(seconds * 1e9)),
        Network = new NetworkSpec { BottleneckRateBps = 20_000_000 },
        StructOps = [new StructOpsEntry { Program = variable, At = SimTime.Zero }],
        Flows =
        [
            new FlowSpec { Count = 2, Cc = "t_" + variable, Start = SimTime.FromMilliseconds(10) },
            new FlowSpec { Count = 1, Cc = "reno", Start = SimTime.FromMilliseconds(10) },
        ],
    };

    private static TcpRunResult Run(TcpScenarioSpec spec)
    {
        var system = new TcpTestSystem();
        ConsumerObjectLoader.LoadInto(system.Catalog, TestObjects.PathOf(Faults));
        return TcpScenarioRunner.RunContained(spec, () => new TcpTestSystem().Bpf, system.Catalog);
    }

    private static void AssertEjectedAndRunCompleted(TcpRunResult result, string variable, string message)
    {
        var fault = result.Faults.Single();
        Assert.Multiple(() =>
        {
            Assert.That(fault.Consumer, Is.EqualTo("t_" + variable));
            Assert.That(fault.Member, Is.EqualTo("cong_avoid"));
            Assert.That(fault.Kind, Is.EqualTo(ConsumerFaultKind.Exception));
            Assert.That(fault.Message, Does.StartWith("BpfFault: " + message));
            Assert.That(fault.Seconds, Is.InRange(0.1, 1.0), "at the 201st cong_avoid call, not at the first");
        });
        Assert.That(result.SimSeconds, Is.EqualTo(3), "the run went on to its end");
        var moved = result.Flows.Where(f => f.CcRequested == "t_" + variable).ToList();
        Assert.That(moved.Select(f => f.Cc), Is.EqualTo(new[] { "cubic", "cubic" }), "tcp_reinit_congestion_control to the default");
        Assert.That(moved.Select(f => f.GoodputMbps), Is.All.GreaterThan(2), "and kept sending");
        var map = result.StructOps.Single(m => m.Name == variable);
        Assert.That(map.Transitions.Select(t => t.State), Is.EqualTo(new[] { "INIT", "INUSE", "TOBEFREE" }));
        Assert.That(map.Freed, Is.True);
        Assert.That(result.Notes, Has.Some.Contains($"t_{variable} ejected").And.Contains("2 flow(s) moved to cubic"));
    }

    [Test]
    public void ReadFarBeyondTheSocket_FaultsAtRunTime_Ejected_RunCompletes()
    {
        var result = Run(Scenario("oob_read"));

        // The verifier's btf_struct_walk words, at the offset the program reached through its .data variable.
        AssertEjectedAndRunCompleted(result, "oob_read", "access beyond struct tcp_sock at off 100000 size 4");
    }

    [Test]
    public void EndlessLoop_RunsOutOfInstructionBudget_Ejected_RunCompletes()
    {
        var result = Run(Scenario("spin"));

        AssertEjectedAndRunCompleted(result, "spin", "BPF program is too large. Processed 1000001 insn");
    }

    [Test]
    public void KfuncDividesByZero_FaultsTheProgram_Ejected_RunCompletes()
    {
        var result = Run(Scenario("ai_zero"));

        // tcp_cong_avoid_ai(tp, 0, acked) would oops the kernel; bpfsim ends the program that asked for it.
        AssertEjectedAndRunCompleted(result, "ai_zero", "divide error in kfunc tcp_cong_avoid_ai (the kernel would oops)");
    }

    [Test]
    public void RuntimeFaultRun_IsDeterministic()
    {
        var a = Run(Scenario("oob_read"));
        var b = Run(Scenario("oob_read"));

        Assert.That(b.Faults, Is.EqualTo(a.Faults));
        Assert.That(b.Flows, Is.EqualTo(a.Flows));
    }

    [Test]
    public void MissingWeakKfunc_GuardedByKsymExists_RunsWithoutFault()
    {
        var result = Run(Scenario("weak_kfunc"));

        Assert.That(result.Faults, Is.Empty);
        Assert.That(result.Flows.Where(f => f.CcRequested == "t_weak_kfunc").Select(f => f.Cc), Is.All.EqualTo("t_weak_kfunc"));
        Assert.That(result.Flows.Select(f => f.GoodputMbps), Is.All.GreaterThan(2));
    }

    [Test]
    public void NullCheckedLookup_Runs_AndCountsEveryCall()
    {
        var s = new TcpScenario(new BpfSim.Tcp.Net.DumbbellOptions { BottleneckRateBps = 20_000_000 });
        var info = ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(Faults)).Single(i => i.Name == "null_ok");
        Assert.That(ConsumerLoading.Load(s.System.Bpf, info, out var loaded).IsOk);
        Assert.That(loaded!.Register().IsOk);
        s.Flow("t_null_ok");

        s.RunFor(1);

        var obj = ConsumerLoading.Objects(s.System.Bpf).Single();
        var (_, fd, _) = obj.Maps.Single(m => m.Name == "call_counts");
        var value = new byte[8];
        Assert.That(s.System.Bpf.MapLookupElem(fd, new byte[4], value).IsOk, "the first call added the entry");
        long runs = obj.Programs.Values.Single(p => p.Name == "null_ok_cong_avoid").RunCount;
        Assert.That(runs, Is.GreaterThan(100));
        Assert.That(BitConverter.ToInt64(value), Is.EqualTo(runs), "one count per call: the entry added at the first, incremented after");
    }

    [Test]
    public void Printk_TraceLinesAtSimulatedTime_WithTheSocketsValues()
    {
        var s = new TcpScenario(new BpfSim.Tcp.Net.DumbbellOptions { BottleneckRateBps = 20_000_000 });
        var info = ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(Faults)).Single(i => i.Name == "printk");
        Assert.That(ConsumerLoading.Load(s.System.Bpf, info, out var loaded).IsOk);
        Assert.That(loaded!.Register().IsOk);
        var conn = s.Flow("t_printk");

        s.RunFor(1);

        var trace = s.System.Bpf.Trace;
        Assert.That(trace, Has.Count.GreaterThan(100));
        Assert.That(trace.Select(t => t.Program), Is.All.EqualTo("printk_cong_avoid"));
        Assert.That(trace.Select(t => t.Text), Is.All.Matches(@"^cwnd \d+ ssthresh \d+$"));
        Assert.That(trace[0].Text, Is.EqualTo($"cwnd {TcpSock.InitCwnd} ssthresh {TcpSock.InfiniteSsthresh}"), "the first ACK, in slow start");
        Assert.That(trace.Select(t => t.Time), Is.Ordered);
        Assert.That(trace[0].Time, Is.GreaterThan(SimTime.FromMilliseconds(20)), "an RTT after the start, at simulated time");
        Assert.That(trace[^1].Time, Is.LessThanOrEqualTo(s.Sim.Now));
        // trace_pipe's layout: task-pid [cpu] flags timestamp: bpf_trace_printk: text.
        Assert.That(trace[0].ToString(), Does.Match(@"^\s+<\.\.\.>-0\s+\[\d{3}\] d\.\.31\s+\d+\.\d{6}: bpf_trace_printk: cwnd 10 ssthresh \d+$"));
        var cwnds = trace.Select(t => uint.Parse(Regex.Match(t.Text, @"cwnd (\d+)").Groups[1].Value)).ToList();
        Assert.That(cwnds.Max(), Is.GreaterThan(TcpSock.InitCwnd), "the values follow the window as it grows");
        Assert.That(conn.Ops.Name, Is.EqualTo("t_printk"));
        Assert.That(conn.Ops.Guard?.Fault, Is.Null);
    }
}
