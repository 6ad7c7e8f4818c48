using BpfSim.Studies;
using System.Text.Json;
using BpfSim.Cli;

namespace BpfSim.Tests.Cli;

/// <summary>
/// A scenario's consumers: every way loading one can fail, and every failure its timed actions would meet in the
/// run (EEXIST, ENOLINK, a built-in's name), is found by validate and reported at the entry's file:line:col.
/// </summary>
[Category("Cli")]
public sealed class ScenarioStructOpsTests
{
    private static readonly string s_twoCcs = CliRun.ConsumerDll("TestConsumers/TwoCcs", "TwoCcs");
    private static readonly string s_cubicClash = CliRun.ConsumerDll("TestConsumers/CubicClash", "CubicClash");
    private static readonly string s_myCc = CliRun.ConsumerDll("ExternalConsumer", "MyCc");

    private static void AssertRefusedAt(string file, int line, int column, string reason, params string[] commands)
    {
        foreach (var command in commands.Length == 0 ? ["validate", "run"] : commands)
        {
            var (code, output, err) = CliRun.Invoke(command, file);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), $"{command}: {err}");
            Assert.That(err, Does.StartWith($"{file}:{line}:{column}: ").And.Contain(reason), command);
            Assert.That(CliRun.AllLinesAreErrors(err), err);
            Assert.That(output, Is.Empty, command);
        }
    }

    /// <summary>A folder holding <paramref name="name"/> made by <paramref name="make"/>, and a scenario loading it.</summary>
    private static string ScenarioWithProgram(string name, Action<string> make)
    {
        string file = CliRun.Scenario($"duration: 3s\nstructops:\n  - {{ program: {name}, at: 0s }}\nflows: [ {{ cc: reno }} ]\n");
        make(Path.Combine(Path.GetDirectoryName(file)!, name));
        return file;
    }

    private static IEnumerable<TestCaseData> BadProgramPaths()
    {
        yield return new TestCaseData("loop.dll", (Action<string>)(p => File.CreateSymbolicLink(p, p)), "cannot be opened").SetName("SymlinkLoop");
        yield return new TestCaseData("dangling.dll", (Action<string>)(p => File.CreateSymbolicLink(p, p + ".gone")), "does not exist").SetName("DanglingSymlink");
        yield return new TestCaseData("dir.dll", (Action<string>)(p => Directory.CreateDirectory(p)), "a directory").SetName("Directory");
        yield return new TestCaseData("text.dll", (Action<string>)(p => File.WriteAllText(p, "not an assembly")), "not a .NET assembly").SetName("NotAnAssembly");
        yield return new TestCaseData("MyCc.dll", (Action<string>)(p =>
        {
            File.Copy(s_myCc, p);
            File.WriteAllText(Path.ChangeExtension(p, ".deps.json"), "{ \"runtimeTarget\": [ broken");
        }), "its dependencies cannot be resolved").SetName("MalformedDepsJson");
    }

    [TestCaseSource(nameof(BadProgramPaths))]
    public void BadProgramPath_EveryCommand_ExitTwo_NoException(string name, Action<string> make, string reason)
    {
        string file = ScenarioWithProgram(name, make);
        AssertRefusedAt(file, 3, 16, reason);
        string dll = Path.Combine(Path.GetDirectoryName(file)!, name);
        foreach (var args in new[] { new[] { "structops", "register", dll }, ["list", "--program", dll] })
        {
            var (code, _, err) = CliRun.Invoke(args);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), $"{args[0]}: {err}");
            Assert.That(err, Does.StartWith("bpfsim: ").And.Contain(reason), args[0]);
            Assert.That(CliRun.AllLinesAreErrors(err), err);
        }
    }

    [Test]
    public void TwoLinkConsumers_SameName_BothRegistered_EexistAtTheSecondsLine()
    {
        string file = CliRun.Scenario("""
            duration: 10s
            structops:
              - { program: bpf_reno_link_v1, at: 0s }
              - { program: bpf_reno_link_v2, at: 1s }
            flows: [ { cc: reno } ]
            """);
        AssertRefusedAt(file, 4, 5, "t=1s: can't register struct_ops bpf_reno_link_v2: BPF_LINK_CREATE: EEXIST");
    }

    [Test]
    public void SameName_AfterTheFirstIsUnregistered_IsFine()
    {
        string file = CliRun.Scenario("""
            duration: 10s
            structops:
              - { program: bpf_reno_link_v1, at: 0s, unregister_at: 1s }
              - { program: bpf_reno_link_v2, at: 2s }
            flows: [ { cc: reno } ]
            """);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.Zero, err);
    }

    [Test]
    public void Replace_OfALinkAlreadyUnregistered_EnolinkAtTheReplacersLine()
    {
        string file = CliRun.Scenario("""
            duration: 10s
            structops:
              - { program: bpf_reno_link_v1, at: 0s, unregister_at: 2s }
              - { program: bpf_reno_link_v2, at: 5s, replace: bpf_reno_link_v1 }
            flows: [ { cc: reno } ]
            """);
        AssertRefusedAt(file, 4, 5, "t=5s: can't register struct_ops bpf_reno_link_v2: BPF_LINK_UPDATE: ENOLINK");
    }

    [Test]
    public void ConsumerNamedLikeABuiltin_RefusedAtItsProgram()
    {
        string file = CliRun.Scenario($"duration: 3s\nstructops:\n  - {{ program: {s_cubicClash}, at: 0s }}\nflows: [ {{ cc: reno }} ]\n");
        AssertRefusedAt(file, 3, 16, "fake_cubic registers 'cubic', the name of a built-in algorithm");
    }

    [Test]
    public void DllWithTwoConsumers_RegistersBoth_FlowsGetTheirOwn()
    {
        string file = CliRun.Scenario($"duration: 2s\nstructops:\n  - {{ program: {s_twoCcs}, at: 0s }}\nflows:\n  - {{ cc: two_a }}\n  - {{ cc: two_b }}\n");
        var (code, output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("flows").EnumerateArray().Select(f => f.GetProperty("cc").GetString()), Is.EqualTo(new[] { "two_a", "two_b" }));
        Assert.That(doc.RootElement.GetProperty("notes").GetArrayLength(), Is.Zero, "no flow fell back to the default");
        Assert.That(doc.RootElement.GetProperty("struct_ops").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public void MapKey_PicksOneConsumerOfTheDll()
    {
        string file = CliRun.Scenario($"duration: 2s\nstructops:\n  - {{ program: {s_twoCcs}, map: two_b, at: 0s }}\nflows:\n  - {{ cc: two_b }}\n");
        var (code, output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("struct_ops").EnumerateArray().Select(m => m.GetProperty("name").GetString()), Is.EqualTo(new[] { "two_b" }));
        string other = CliRun.Scenario($"duration: 2s\nstructops:\n  - {{ program: {s_twoCcs}, map: two_b, at: 0s }}\nflows:\n  - {{ cc: two_a }}\n");
        AssertRefusedAt(other, 5, 11, "no structops entry registers", "validate");
    }

    [Test]
    public void MapKey_NamingNoConsumer_RefusedWithTheChoices()
    {
        // A flow naming one of the file's algorithms is not refused as well: the map: line is the one mistake.
        string file = CliRun.Scenario($"duration: 2s\nstructops:\n  - {{ program: {s_twoCcs}, map: two_c, at: 0s }}\nflows: [ {{ cc: two_a }} ]\n");
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), err);
        Assert.That(err, Does.Contain($"{file}:3:").And.Contain("has no consumer 'two_c' (it has: two_a, two_b)"));
    }

    [Test]
    public void StructOpsRegister_DllWithTwoConsumers_RegistersBoth()
    {
        var (code, output, err) = CliRun.Invoke("structops", "register", s_twoCcs);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("Registered tcp_congestion_ops two_a").And.Contain("Registered tcp_congestion_ops two_b"));
    }

    [Test]
    public void SameLinkActionsAtOneInstant_RunOneAfterAnother_TheDuplicateRefusedAtItsLine()
    {
        // Found by the fuzzer: the first update's grace period ran the event loop, which started the duplicate's
        // actions in the middle of it (a second LINK_UPDATE on the same link, a detach twice → a reference below 0).
        // The actions now queue behind each other, and the duplicate is a second load of v2, whose update of v1's link
        // finds that v1 no longer holds it: refused at its line, by validate and by run alike, nothing corrupted.
        string file = CliRun.Scenario("""
            duration: 12s
            structops:
              - { program: bpf_reno_link_v1, at: 0s }
              - { program: bpf_reno_link_v2, at: 5s, replace: bpf_reno_link_v1, unregister_at: 10s }
              - { program: bpf_reno_link_v2, at: 5s, replace: bpf_reno_link_v1, unregister_at: 10s }
            flows:
              - { count: 2, cc: bpf_reno_link, start: 0s }
              - { count: 1, cc: bpf_reno_link, start: 7s }
            """);
        AssertRefusedAt(file, 5, 5, "can't register struct_ops bpf_reno_link_v2: BPF_LINK_UPDATE: EINVAL");
    }

    [Test]
    public void SameConsumer_RegisteredAgainWhileRegistered_EexistAtTheSecondsLine()
    {
        string file = CliRun.Scenario("""
            duration: 5s
            structops:
              - { program: bpf_dctcp, at: 0s }
              - { program: bpf_dctcp, at: 1s }
            flows: [ { cc: cubic } ]
            """);
        AssertRefusedAt(file, 4, 5, "t=1s: can't register struct_ops bpf_dctcp: BPF_MAP_UPDATE_ELEM: EEXIST");
    }

    [Test]
    public void SameConsumer_RegisteredAgainAfterItsUnregistration_IsASecondMap()
    {
        string file = CliRun.Scenario("""
            duration: 5s
            structops:
              - { program: bpf_dctcp, at: 0s, unregister_at: 1s }
              - { program: bpf_dctcp, at: 2s }
            flows: [ { cc: bpf_dctcp, start: 3s } ]
            """);
        var (code, output, err) = CliRun.Invoke("run", file, "--json");
        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        using var doc = JsonDocument.Parse(output);
        var maps = doc.RootElement.GetProperty("struct_ops").EnumerateArray().ToList();
        Assert.That(maps.Select(m => m.GetProperty("name").GetString()), Is.EqualTo(new[] { "bpf_dctcp", "bpf_dctcp" }));
        Assert.That(maps[0].GetProperty("map_id").GetInt32(), Is.Not.EqualTo(maps[1].GetProperty("map_id").GetInt32()));
        Assert.That(maps[0].GetProperty("freed").GetBoolean(), Is.True, "the first map went with its loader");
        var flow = doc.RootElement.GetProperty("flows")[0];
        Assert.That(flow.GetProperty("map_id").GetInt32(), Is.EqualTo(maps[1].GetProperty("map_id").GetInt32()), "the flow started at 3 s uses the second");
    }
}
