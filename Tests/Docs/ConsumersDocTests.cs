using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Docs;

/// <summary>
/// docs/consumers.md's walkthrough cannot rot: its project file and consumer are Tests/ExternalConsumer's files, which
/// the test build compiles, and its scenario runs with the DLL that build made.
/// </summary>
[Category("Docs")]
public sealed class ConsumersDocTests
{
    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    private static string Doc => File.ReadAllText(Path.Combine(Repo(), "docs", "consumers.md"));

    /// <summary>The one fenced block of <paramref name="language"/> in the page (```xml, ```csharp, ```yaml).</summary>
    internal static string Block(string markdown, string language)
    {
        var blocks = Regex.Matches(markdown.ReplaceLineEndings("\n"), $"^```{language}\\n(.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.That(blocks, Has.Count.EqualTo(1), $"one ```{language} block in docs/consumers.md");
        return blocks[0].Groups[1].Value;
    }

    private static string Source(string relative) => File.ReadAllText(Path.Combine(Repo(), relative)).ReplaceLineEndings("\n");

    [Test]
    public void ConsumersMd_ProjectFile_IsTheExternalConsumerProject()
    {
        Assert.That(Block(Doc, "xml"), Is.EqualTo(Source("Tests/ExternalConsumer/ExternalConsumer.csproj")));
    }

    [Test]
    public void ConsumersMd_ConsumerCode_IsTheExternalConsumerSource()
    {
        Assert.That(Block(Doc, "csharp"), Is.EqualTo(Source("Tests/ExternalConsumer/MyCc.cs")));
    }

    [Test]
    public void ConsumersMd_Scenario_RunsTheBuiltConsumerInItsFlows()
    {
        string config = typeof(ConsumersDocTests).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        string built = Path.Combine(Repo(), "Tests", "ExternalConsumer", "bin", config, "net10.0", "MyCc.dll");
        // The page's folder: my.yaml beside the project, the DLL where `dotnet build` (Debug) puts it.
        string folder = Path.Combine(Path.GetTempPath(), $"bpfsim-mycc-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(folder, "bin", "Debug", "net10.0"));
        File.Copy(built, Path.Combine(folder, "bin", "Debug", "net10.0", "MyCc.dll"));
        string scenario = Path.Combine(folder, "my.yaml");
        File.WriteAllText(scenario, Block(Doc, "yaml"));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.That(BpfSimCommand.Invoke(["run", scenario, "--duration", "3s", "--json"], stdout, stderr), Is.Zero, stderr.ToString());
        using var summary = JsonDocument.Parse(stdout.ToString());
        var flows = summary.RootElement.GetProperty("flows").EnumerateArray().ToList();
        Assert.That(flows.Count(f => f.GetProperty("cc").GetString() == "my_cc"), Is.EqualTo(2), "both my_cc flows run it");
        Assert.That(flows.Where(f => f.GetProperty("cc").GetString() == "my_cc").Select(f => f.GetProperty("bytes_acked").GetInt64()),
            Has.All.GreaterThan(0));
        var map = summary.RootElement.GetProperty("struct_ops")[0];
        Assert.That((map.GetProperty("name").GetString(), map.GetProperty("refcnt_max").GetInt32()), Is.EqualTo(("my_cc", 3)),
            "the registration and its two sockets, as the page says");
        Directory.Delete(folder, recursive: true);
    }
}
