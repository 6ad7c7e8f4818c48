using BpfSim.Cli;
using BpfSim.Studies;
using BpfSim.Studies.Scenarios;

namespace BpfSim.Tests.Cli;

/// <summary>
/// <c>hz</c> (CONFIG_HZ) in a TCP scenario: read into the spec, refused with <c>file:line:column</c> when Kconfig does
/// not offer the value (kernel/Kconfig.hz: 100, 250, 300, 1000).
/// </summary>
[Category("Cli")]
public sealed class TcpHzScenarioTests
{
    private const string Flows = "duration: 1s\nflows: [ { cc: cubic } ]\n";

    private static LoadedScenario Load(string yaml)
    {
        var (factory, catalog) = Composition.Create([]);
        var loaded = ScenarioLoader.Load(CliRun.Scenario(yaml), factory, catalog);
        Assert.That(loaded.Subsystem, Is.EqualTo("tcp"));
        return loaded;
    }

    [TestCase(100u)]
    [TestCase(250u)]
    [TestCase(300u)]
    [TestCase(1000u)]
    public void Hz_InATcpScenario_ReadIntoTheSpec(uint hz) =>
        Assert.That(Load($"hz: {hz}\n" + Flows).Spec.Hz, Is.EqualTo(hz));

    [Test]
    public void Hz_Absent_Is1000() => Assert.That(Load(Flows).Spec.Hz, Is.EqualTo(1000u));

    [TestCase("hz: 500\n", "500", "hz is CONFIG_HZ: 100, 250, 300 or 1000, not 500")]
    [TestCase("hz: 1024\n", "1024", "hz is CONFIG_HZ: 100, 250, 300 or 1000, not 1024")]
    [TestCase("hz: fast\n", "fast", "hz: 'fast' is not a whole number")]
    public void Hz_NotAChoice_ExitsTwoWithFileLineColumn(string hzLine, string marker, string message)
    {
        string yaml = Flows + hzLine;
        string file = CliRun.Scenario(yaml);
        var (line, column) = SchedScenarioErrorTests.Where(yaml, marker);
        var (code, _, err) = CliRun.Invoke("validate", file);
        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.Contain($"{file}:{line}:{column}: ").And.Contain(message), $"expected at {line}:{column}");
    }
}
