using BpfSim.Cli.Commands;

namespace BpfSim.Tests.Cli;

/// <summary>Runs the bpfsim command in-process and makes scenario files for it.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = BpfSimCommand.Invoke(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The built command as a separate process (dotnet bpfsim.dll ARGS): exit code, stdout and stderr as a user sees them.</summary>
    public static (int Code, string Out, string Err) Built(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bpfsim.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        Assert.That(p.WaitForExit(120_000), "bpfsim finished");
        return (p.ExitCode, stdout.Result, stderr);
    }

    /// <summary>A fresh file holding <paramref name="bytes"/>, in a fresh folder (so relative paths in it are the test's).</summary>
    public static string File(byte[] bytes, string name = "scenario.yaml")
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public static string Scenario(string yaml) => File(System.Text.Encoding.UTF8.GetBytes(yaml));

    /// <summary>A test consumer assembly built beside the tests (Tests/ExternalConsumer, Tests/TestConsumers/*).</summary>
    public static string ConsumerDll(string project, string assembly)
    {
        string config = typeof(CliRun).Assembly.Location.Contains("/Release/") ? "Release" : "Debug";
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(CliRun).Assembly.Location)!, "../../..", project, "bin", config,
            "net10.0", assembly + ".dll"));
    }

    /// <summary>Every line of <paramref name="stderr"/> is an error as bpfsim reports them: file:line:col: or bpfsim:.</summary>
    public static bool AllLinesAreErrors(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .All(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^(.+:\d+:\d+: |bpfsim: )"));
}
