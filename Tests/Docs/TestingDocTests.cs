using System.Diagnostics;
using System.Text.RegularExpressions;

namespace BpfSim.Tests.Docs;

/// <summary>
/// docs/testing.md's example project cannot rot: its three files are examples/ScenarioTests' files, which the test
/// build compiles (a project reference that references nothing), and its tests are run here as a user would run them.
/// </summary>
[Category("Docs")]
public sealed class TestingDocTests
{
    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    private static string Doc => File.ReadAllText(Path.Combine(Repo(), "docs", "testing.md"));

    private static string Block(string language)
    {
        var blocks = Regex.Matches(Doc.ReplaceLineEndings("\n"), $"^```{language}\\n(.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.That(blocks, Has.Count.EqualTo(1), $"one ```{language} block in docs/testing.md");
        return blocks[0].Groups[1].Value;
    }

    private static string Source(string relative) =>
        File.ReadAllText(Path.Combine(Repo(), "examples", "ScenarioTests", relative)).ReplaceLineEndings("\n");

    [TestCase("xml", "ScenarioTests.csproj")]
    [TestCase("yaml", "dctcp_vs_cubic.yaml")]
    [TestCase("csharp", "DctcpScenarioTests.cs")]
    public void TestingMd_Block_IsTheExampleProjectsFile(string language, string file)
    {
        Assert.That(Block(language), Is.EqualTo(Source(file)));
    }

    [Test]
    public void ExampleProject_ItsTestsPassAgainstThisCheckout()
    {
        string config = typeof(TestingDocTests).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        string project = Path.Combine(Repo(), "examples", "ScenarioTests", "ScenarioTests.csproj");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "test", project, "--no-build", "-c", config })
        {
            psi.ArgumentList.Add(arg);
        }
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(5)), "dotnet test of the example finished");
        Assert.That(process.ExitCode, Is.Zero, stdout + stderr.Result);
        Assert.That(stdout, Does.Match(@"Failed:\s+0, Passed:\s+4, Skipped:\s+0"), stdout);
    }
}
