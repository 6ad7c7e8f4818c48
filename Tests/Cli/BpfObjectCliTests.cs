using BpfSim.Studies;
using System.Text.Json;
using BpfSim.Cli;
using BpfSim.Tests.Programs;

namespace BpfSim.Tests.Cli;

/// <summary>BPF objects wherever a consumer is accepted: scenarios, structops register, prog show/dump, list.</summary>
[Category("Cli")]
public sealed class BpfObjectCliTests
{
    [Test]
    public void StructOpsRegister_Object_PrintsBpftoolLines()
    {
        var (code, output, err) = CliRun.Invoke("structops", "register", BpfObjects.PathOf("bpf_cubic"));
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        // .rodata and .kconfig are maps 1 and 2, as libbpf creates an object's internal maps first.
        Assert.That(output, Does.StartWith("Registered tcp_congestion_ops bpf_cubic_c id 3"));
        Assert.That(output, Does.Contain("BPF_STRUCT_OPS_STATE_INUSE"));
    }

    [Test]
    public void ProgDumpXlated_ShowsRelocatedInstructionsInBpftoolsText()
    {
        var (code, output, err) = CliRun.Invoke("prog", "dump", "xlated", "bpf_dctcp_c", "--name", "dctcp_c_update_alpha");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain("struct_ops  name dctcp_c_update_").And.Contain("tcp_congestion_ops.in_ack_event"));
        Assert.That(output, Does.Match(@"\(18\) r\d = map\[id:\d+\]\[0\]\+\d+"), "a .rodata address named as bpftool names it");
        Assert.That(output, Does.Contain("(95) exit"));
    }

    [Test]
    public void ProgShow_CSharpConsumer_IsRefused()
    {
        var (code, _, err) = CliRun.Invoke("prog", "show", "bpf_cubic");
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.Contain("is not a BPF object"));
    }

    [TestCase("xdp_src_counter")]
    [TestCase("Programs/bpf/obj/xdp_src_counter.bpf.o")]
    public void ProgShow_XdpObject_ListsItsXdpProgram_ByNameOrPath(string target)
    {
        string arg = target.Contains('/') ? Path.Combine(Programs.BpfObjects.SourceFolder, "obj", "xdp_src_counter.bpf.o") : target;
        var (code, output, err) = CliRun.Invoke("prog", "show", arg);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.StartWith("1: xdp  name xdp_src_counter  xlated "));
        var (dumpCode, dump, _) = CliRun.Invoke("prog", "dump", "xlated", arg);
        Assert.That(dumpCode, Is.Zero);
        Assert.That(dump, Does.Contain("exit"));
    }

    [Test]
    public void ProgShow_SchedExtObject_LoadsAgainstSchedExtOps()
    {
        // Before, the command's kernel had no sched_ext_ops: "struct sched_ext_ops is not in this kernel".
        var (code, output, err) = CliRun.Invoke("prog", "show", Programs.BpfObjects.PathOf("scx_simple"));
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("name simple_enqueue  sched_ext_ops.enqueue"));
    }

    [Test]
    public void List_ShowsShippedObjectsAsConsumers()
    {
        var (code, output, _) = CliRun.Invoke("list", "--json");
        Assert.That(code, Is.Zero);
        using var doc = JsonDocument.Parse(output);
        var names = doc.RootElement.GetProperty("consumers").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.That(names, Is.SupersetOf(new[] { "bpf_cubic_c", "bpf_dctcp_c", "bpf_reno_c", "reno_lnk_v1", "reno_lnk_v2" }));
    }

    [Test]
    public void Run_ObjectByPath_ProgramsRunAndAreCounted()
    {
        string file = CliRun.Scenario($"""
            duration: 3s
            structops:
              - {"{"} program: {BpfObjects.PathOf("bpf_reno")}, at: 0s {"}"}
            flows:
              - {"{"} count: 2, cc: bpf_reno_c, start: 0s {"}"}
            """);
        var (code, output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("flows").EnumerateArray().Select(f => f.GetProperty("cc").GetString()), Is.All.EqualTo("bpf_reno_c"));
        var programs = doc.RootElement.GetProperty("programs").EnumerateArray().ToList();
        var congAvoid = programs.Single(p => p.GetProperty("member").GetString() == "cong_avoid");
        Assert.That(congAvoid.GetProperty("run_cnt").GetInt64(), Is.GreaterThan(1000));
        Assert.That(congAvoid.GetProperty("insns_per_run").GetDouble(), Is.EqualTo(5), "5 instructions, every run");
    }

    [Test]
    public void ObjectConsumer_HasTheSameLifecycleAsACSharpOne()
    {
        // Same flows and actions, one scenario with the C# bpf_cubic (the selftest's variant), one with the object's
        // bpf_cubic_c: the struct_ops map's states and refcnt must tell the same story (INIT → INUSE → TOBEFREE, one
        // reference per socket, freed after the last one closes).
        string Scenario(string program, string cc) => CliRun.Scenario($"""
            duration: 6s
            structops:
              - {"{"} program: {program}, at: 0s, unregister_at: 3s {"}"}
            flows:
              - {"{"} count: 2, cc: {cc}, start: 0s, stop: 2s {"}"}
              - {"{"} count: 1, cc: {cc}, start: 1s, stop: 5s {"}"}
            """);
        static List<(double T, string State, long RefCount)> Timeline(string output)
        {
            using var doc = JsonDocument.Parse(output);
            var map = doc.RootElement.GetProperty("struct_ops").EnumerateArray().Single();
            return map.GetProperty("timeline").EnumerateArray()
                .Select(e => (e.GetProperty("t_s").GetDouble(), e.GetProperty("state").GetString()!, e.GetProperty("refcnt").GetInt64())).ToList();
        }
        var (c1, managed, e1) = CliRun.Invoke("run", Scenario("bpf_cubic", "bpf_cubic"), "--json");
        var (c2, bytecode, e2) = CliRun.Invoke("run", Scenario("bpf_cubic_c", "bpf_cubic_c"), "--json");
        Assert.That((c1, c2), Is.EqualTo((0, 0)), e1 + e2);

        var expected = Timeline(managed);
        var actual = Timeline(bytecode);
        Assert.That(actual.Select(e => (e.State, e.RefCount)), Is.EqualTo(expected.Select(e => (e.State, e.RefCount))));
        // A stopped flow closes when its data has drained, which depends on the algorithm's window: times within 0.1 s.
        Assert.That(actual.Select(e => e.T), Is.EqualTo(expected.Select(e => e.T)).Within(0.1));
        Assert.That(expected.Select(e => e.State).Distinct(), Is.EqualTo(new[] { "INIT", "INUSE", "TOBEFREE" }));
    }
}
