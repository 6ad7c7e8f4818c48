using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using BpfSim.Studies.Traces;
using BpfSim.Tests.Studies.Traces;

namespace BpfSim.Tests.Docs;

/// <summary>
/// docs/traces.md cannot rot: its schema tables list every field of <see cref="TraceSchema"/>, and its Python snippet,
/// run as written with msgpack and pandas, reads a real trace and counts what the run reports.
/// </summary>
[Category("Docs")]
[Category("Traces")]
public sealed class TracesDocTests
{
    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../.."));

    private static string Doc => File.ReadAllText(Path.Combine(Repo(), "docs", "traces.md")).ReplaceLineEndings("\n");

    [Test]
    public void TracesMd_SchemaTables_ListEveryFieldInOrder()
    {
        foreach (var type in TraceSchema.Records)
        {
            var section = Regex.Match(Doc, $@"^### `{type.Name}` \(type {type.Code}, in `[^`]+`\)\n(.*?)(?=^#|\z)", RegexOptions.Multiline | RegexOptions.Singleline);
            Assert.That(section.Success, $"a section for {type.Name}");
            var rows = Regex.Matches(section.Groups[1].Value, @"^\| (\d+) \| `([a-z_0-9]+)` \| (\w+) \| ([^|]+) \|", RegexOptions.Multiline);
            Assert.That(rows.Select(r => r.Groups[2].Value), Is.EqualTo(type.Fields.Select(f => f.Name)), type.Name);
            Assert.That(rows.Select(r => r.Groups[3].Value), Is.EqualTo(type.Fields.Select(f => f.Kind.ToString().ToLowerInvariant())), type.Name);
            Assert.That(rows.Select(r => r.Groups[4].Value.Trim()), Is.EqualTo(type.Fields.Select(f => f.Unit.Length == 0 ? "-" : f.Unit)), type.Name);
        }
    }

    /// <summary>A python3 that imports msgpack and pandas: the one on PATH, else Debian's (a pyenv or venv may hide it).</summary>
    private static string? Python()
    {
        foreach (string candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(candidate, ["-c", "import msgpack, pandas"])
                {
                    RedirectStandardError = true, RedirectStandardOutput = true,
                })!;
                p.WaitForExit();
                if (p.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed
            }
        }
        return null;
    }

    [Test]
    public void TracesMd_PythonSnippet_ReadsATraceIntoDataFramesThatCountWhatTheRunReports()
    {
        string python = Python() ?? "";
        if (python.Length == 0)
        {
            Assert.Ignore("python3 with msgpack and pandas is not installed (apt-get install python3-msgpack python3-pandas; tools/test.sh does)");
        }
        var blocks = Regex.Matches(Doc, "^```python\n(.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.That(blocks, Has.Count.EqualTo(1), "one ```python block in docs/traces.md");
        string script = Path.Combine(Path.GetTempPath(), $"bpfsim-read-trace-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, blocks[0].Groups[1].Value);
        var (outcome, dir) = TraceRunTests.Traced(TraceRunTests.CompetingScenario);

        using var p = Process.Start(new ProcessStartInfo(python, [script, dir]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, stderr);

        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var records = TraceReader.ReadRecords(dir);
        foreach (var type in TraceSchema.Records)
        {
            Assert.That(lines, Does.Contain($"{type.Name} {records[type.Name].Count}"), $"{type.Name} rows");
        }
        var retransmits = JsonSerializer.Deserialize<Dictionary<string, long>>(lines.Single(l => l.StartsWith("retransmits ", StringComparison.Ordinal))[12..])!;
        Assert.That(retransmits, Is.EquivalentTo(outcome.Tcp!.Flows.Where(f => f.Retransmits > 0).ToDictionary(f => f.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), f => f.Retransmits)));
        var drops = JsonSerializer.Deserialize<Dictionary<string, long>>(lines.Single(l => l.StartsWith("drops ", StringComparison.Ordinal))[6..])!;
        Assert.That(drops["bottleneck"], Is.EqualTo(outcome.Tcp.Links.Single().Drops));
        Assert.That(lines[^1], Does.Match(@"^\s*\d+\.\d+\s+\d+\s+\d+\s+\d+\s+\d+$"), "the last cwnd rows of flow 1");
    }
}
