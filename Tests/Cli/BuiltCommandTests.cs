using System.Text.Json;

namespace BpfSim.Tests.Cli;

/// <summary>The built bpfsim command as a separate process: exit codes, stdout and stderr as a user sees them.</summary>
[Category("Cli")]
public sealed class BuiltCommandTests
{
    [Test]
    public void Run_Json_ExitZero_ValidJsonOnStdout()
    {
        var (code, output, err) = CliRun.Built("run", "--duration", "1s", "--json");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("flows").GetArrayLength(), Is.GreaterThan(0));
        Assert.That(output, Does.Not.Contain("\u001b["));
    }

    [Test]
    public void BrokenScenario_ExitTwo_MessageOnStderr_NoStackTrace()
    {
        string file = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "duration: 3s\nflows:\n  - { cc: vegas }\n");
        var (code, output, err) = CliRun.Built("run", file);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(output, Is.Empty);
        Assert.That(err, Does.Contain($"{file}:3:11: unknown congestion control 'vegas'"));
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void Version_PrintsTheToolVersion()
    {
        var (code, output, _) = CliRun.Built("--version");
        Assert.That(code, Is.Zero);
        // 0.1.<commits> from git (Directory.Build.targets), or 0.1.0 without git; then +<source revision>.
        Assert.That(output, Does.Match(@"^0\.1\.\d+"));
        Assert.That(output, Does.StartWith(typeof(BpfSim.Cli.Commands.BpfSimCommand).Assembly.GetName().Version!.ToString(3)));
    }
}
