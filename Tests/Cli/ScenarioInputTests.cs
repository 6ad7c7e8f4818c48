using BpfSim.Studies;
using System.Text;
using BpfSim.Cli;
using BpfSim.Studies.Scenarios;

namespace BpfSim.Tests.Cli;

/// <summary>
/// Malformed and hostile scenario files: every one is an error at file:line:col with exit code 2, from run and
/// validate alike, never an exception, a stack overflow or an out-of-memory.
/// </summary>
[Category("Cli")]
public sealed class ScenarioInputTests
{
    private const string Flows = "flows: [ { cc: reno } ]\n";

    private static void AssertRefused(string file, int line, int column, string reason)
    {
        foreach (var command in new[] { "run", "validate" })
        {
            var (code, output, err) = CliRun.Invoke(command, file);
            Assert.That(code, Is.EqualTo(ExitCodes.BadInput), $"{command}: {err}");
            Assert.That(err, Does.StartWith($"{file}:{line}:{column}: ").And.Contain(reason), command);
            Assert.That(CliRun.AllLinesAreErrors(err), err);
            Assert.That(output, Is.Empty, command);
        }
    }

    private static IEnumerable<TestCaseData> MalformedYaml()
    {
        // YamlDotNet throws InvalidOperationException, not YamlException, on these.
        yield return new TestCaseData("duration: 3s\nflows: [ { cc: reno\nfoo\n", 3, "not valid YAML").SetName("UnclosedFlowMapping_ThenPlainScalar");
        yield return new TestCaseData("duration: 3s\nflows: {\nfoo\n", 3, "not valid YAML").SetName("UnclosedBrace_ThenPlainScalar");
        yield return new TestCaseData("duration: 3s\n&a [*a]: 1\n" + Flows, 2, "a key must be a single value").SetName("SelfReferencingAliasAsKey");
        yield return new TestCaseData("duration: 3s\nx: &a [*a]\n" + Flows, 2, "inside the node it refers to").SetName("SelfReferencingAliasAsValue");
        yield return new TestCaseData("duration: 3s\nx: &a { y: [ *a ] }\n" + Flows, 2, "a cycle").SetName("AliasCycleThroughNesting");
        yield return new TestCaseData("duration: 3s\nx: *b\ny: &b 1\n" + Flows, 2, "before its anchor").SetName("AliasBeforeItsAnchor");
        yield return new TestCaseData("duration: 3s\n? [a, b]\n: 1\n" + Flows, 2, "a key must be a single value").SetName("ComplexKey");
        yield return new TestCaseData("duration: 3s\nk: &k { a: 1 }\n*k : 2\n" + Flows, 3, "a key must be a single value").SetName("AliasOfMappingAsKey");
        yield return new TestCaseData("duration: 3s\nduration: 4s\n" + Flows, 2, "not valid YAML").SetName("DuplicateKey");
        yield return new TestCaseData("duration: 3s\n\tflows: []\n", 2, "not valid YAML").SetName("TabIndent"); // the tab's line, not the mapping's
    }

    [TestCaseSource(nameof(MalformedYaml))]
    public void MalformedYaml_ExitTwo_AtItsLine(string yaml, int line, string reason)
    {
        string file = CliRun.Scenario(yaml);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.StartWith($"{file}:{line}:").And.Contain(reason));
        AssertRefused(file, line, int.Parse(err.Split(':')[2]), reason);
    }

    [Test]
    public void DeepNesting_32000Levels_RefusedAtTheFirstLevelTooDeep()
    {
        string yaml = "duration: 3s\nx: " + new string('[', 32_000) + new string(']', 32_000) + "\n" + Flows;
        AssertRefused(CliRun.Scenario(yaml), 2, 4 + ScenarioLimits.MaxDepth - 1, $"nested more than {ScenarioLimits.MaxDepth} levels");
    }

    [Test]
    public void AliasBomb_RefusedBeforeExpansion()
    {
        var yaml = new StringBuilder("duration: 3s\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++)
        {
            yaml.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }
        yaml.Append(Flows);
        string file = CliRun.Scenario(yaml.ToString());
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.StartWith($"{file}:6:").And.Contain("alias bomb"), "10^5 nodes are reached by a5's aliases");
    }

    [Test]
    public void AnchorsAndAliases_ReusedWithoutCycles_AreFine()
    {
        string file = CliRun.Scenario("""
            duration: 2s
            network:
              bottleneck: { rate: 50Mbps, queue: &q { type: droptail, limit: 100 } }
            flows:
              - &f { count: 1, cc: reno }
              - *f
            """);
        var (code, output, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.Zero, err);
        Assert.That(output, Does.Contain("2 flow group(s)"));
    }

    [Test]
    public void NulByte_RefusedAtItsLineAndColumn()
    {
        AssertRefused(CliRun.File(Encoding.UTF8.GetBytes("duration: 3s\nflows: [ { cc: re\0no } ]\n")), 2, 18, "NUL byte");
    }

    [Test]
    public void Utf16File_RefusedAsNotUtf8()
    {
        string file = CliRun.File(Encoding.Unicode.GetBytes("duration: 3s\n" + Flows));
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(err, Does.StartWith($"{file}:1:"));
    }

    [Test]
    public void InvalidUtf8_RefusedAtTheFirstBadByte()
    {
        byte[] bytes = [.. "duration: 3s\nflows: [ { cc: \u00e9"u8, 0xFF, .. "reno } ]\n"u8];
        AssertRefused(CliRun.File(bytes), 2, 17, "invalid UTF-8 (byte 0xFF");
    }

    [Test]
    public void Utf8Bom_IsAccepted()
    {
        var (code, _, err) = CliRun.Invoke("validate", CliRun.File([0xEF, 0xBB, 0xBF, .. "duration: 3s\nflows: [ { cc: reno } ]\n"u8]));
        Assert.That(code, Is.Zero, err);
    }

    [Test]
    public void SecondYamlDocument_RefusedAtItsStart()
    {
        AssertRefused(CliRun.Scenario("duration: 3s\n" + Flows + "---\nduration: 9s\n"), 4, 1, "a scenario file holds one YAML document");
    }

    [Test]
    public void FileOverTheSizeLimit_Refused()
    {
        string yaml = "duration: 3s\n" + Flows + new string('#', ScenarioLimits.MaxFileBytes) + "\n";
        AssertRefused(CliRun.Scenario(yaml), 1, 1, "larger than 1 MiB");
    }

    [Test]
    public void Directory_RefusedNotThrown()
    {
        string dir = Path.GetDirectoryName(CliRun.Scenario(""))!;
        AssertRefused(dir, 1, 1, "is a directory");
    }

    [Test]
    public void EmptyFile_Refused()
    {
        AssertRefused(CliRun.Scenario(""), 1, 1, "a scenario is a mapping");
    }
}
