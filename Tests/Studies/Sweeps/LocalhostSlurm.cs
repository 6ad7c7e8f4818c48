using System.Diagnostics;

namespace BpfSim.Tests.Studies.Sweeps;

/// <summary>
/// The one-node Slurm cluster of tools/slurm/localhost-cluster.sh, and processes run against it: the script, Slurm's
/// clients (with <c>SLURM_CONF</c> naming the cluster's configuration) and the built bpfsim.
/// </summary>
internal static class LocalhostSlurm
{
    /// <summary>The script's exit code when this machine cannot host the cluster (not root, packages missing).</summary>
    public const int CannotHost = 3;

    private static string Repo([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "../../.."));

    /// <summary>tools/slurm/localhost-cluster.sh in this checkout.</summary>
    public static string Script => Path.Combine(Repo(), "tools", "slurm", "localhost-cluster.sh");

    /// <summary>The configuration file the script writes, as its <c>env</c> subcommand prints it.</summary>
    public static string Conf =>
        Path.Combine(Environment.GetEnvironmentVariable("BPFSIM_SLURM_DIR") ?? "/var/lib/bpfsim-slurm", "slurm.conf");

    /// <summary>
    /// Why the cluster cannot run here (not root, no bash, a package missing), or null when it can. Checks only; installs
    /// nothing (tools/test.sh installs the packages).
    /// </summary>
    public static string? WhyNot()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"))
            return "needs Linux with /bin/bash";
        if (!Environment.IsPrivilegedProcess)
            return "needs root: tools/slurm/localhost-cluster.sh starts munged, slurmctld and slurmd";
        string[] missing = new[] { "munged", "slurmctld", "slurmd", "sbatch", "sinfo" }.Where(c => Which(c) is null).ToArray();
        return missing.Length == 0
            ? null
            : $"{string.Join(", ", missing)} not installed (apt-get install -y slurm-wlm munge, as tools/test.sh does)";
    }

    private static string? Which(string command)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/sbin", "/sbin", "/usr/bin" });
        return dirs.Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs tools/slurm/localhost-cluster.sh with <paramref name="subcommand"/>.</summary>
    public static Result Cluster(string subcommand, int timeoutSeconds = 120) =>
        Run("/bin/bash", new[] { Script, subcommand }, Environment.CurrentDirectory, timeoutSeconds);

    /// <summary>Runs a Slurm client (sbatch, squeue, scancel, sinfo) against the localhost cluster.</summary>
    public static Result Slurm(string command, IEnumerable<string> args, string workingDirectory, int timeoutSeconds = 60) =>
        Run(Which(command) ?? command, args, workingDirectory, timeoutSeconds);

    /// <summary>Runs the built bpfsim (bpfsim.dll beside the tests) as its own process.</summary>
    public static Result Bpfsim(string workingDirectory, params string[] args) =>
        Run("dotnet", new[] { BpfsimDll }.Concat(args), workingDirectory, 120);

    /// <summary>The built bpfsim.dll beside the tests.</summary>
    public static string BpfsimDll => Path.Combine(AppContext.BaseDirectory, "bpfsim.dll");

    private static Result Run(string file, IEnumerable<string> args, string workingDirectory, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["SLURM_CONF"] = Conf;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new Result(-1, stdout.Result, stderr.Result + $"\n{file} {string.Join(' ', args)}: no exit within {timeoutSeconds} s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A finished process: exit code (-1 when it was killed for taking too long), stdout, stderr.</summary>
    public sealed record Result(int Code, string Out, string Err)
    {
        /// <summary>Both streams, for assertion messages.</summary>
        public override string ToString() => $"exit {Code}\n{Out}\n{Err}";
    }
}
