using System.Text;

namespace BpfSim.Studies.Sweeps;

/// <summary>
/// The job-array script <c>bpfsim sweep --emit slurm DIR</c> writes beside the manifest (docs/sweeps.md): one array
/// task per chunk, each running <c>bpfsim sweep SWEEP.yaml --only $SLURM_ARRAY_TASK_ID --out DIR</c>; then
/// <c>bpfsim sweep collect DIR</c> merges.
/// </summary>
public static class SlurmScript
{
    public const string FileName = "sweep.sbatch";

    /// <param name="bpfsim">The command that runs bpfsim on the cluster's nodes (e.g. <c>dotnet /opt/bpfsim/bpfsim.dll</c>).</param>
    /// <param name="extraArguments">Run-time options every task passes on (--format, --trace, --pcap, --call-timeout), already quoted.</param>
    public static string For(SweepManifest manifest, string directory, string bpfsim, IReadOnlyList<string> extraArguments)
    {
        string dir = Path.GetFullPath(directory);
        var text = new StringBuilder();
        text.Append("#!/bin/bash\n");
        text.Append($"# bpfsim sweep {manifest.Name}: {manifest.Runs.Count} runs in {manifest.Chunks.Count} chunks (one array task each).\n");
        text.Append($"# Submit with: sbatch {Quote(Path.Combine(dir, FileName))}; when every task is done: bpfsim sweep collect {Quote(dir)}\n");
        text.Append($"#SBATCH --job-name=bpfsim-{manifest.Name}\n");
        text.Append($"#SBATCH --array=0-{manifest.Chunks.Count - 1}\n");
        text.Append("#SBATCH --ntasks=1\n");
        text.Append($"#SBATCH --output={dir}/slurm-%A_%a.out\n");
        text.Append("set -euo pipefail\n");
        text.Append($"exec {bpfsim} sweep {Quote(manifest.Sweep)} --only \"$SLURM_ARRAY_TASK_ID\" --out {Quote(dir)} --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\" --quiet");
        foreach (var argument in extraArguments)
        {
            text.Append(' ').Append(argument);
        }
        text.Append('\n');
        return text.ToString();
    }

    /// <summary>Writes manifest.json and sweep.sbatch into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Emit(SweepManifest manifest, string directory, string bpfsim, IReadOnlyList<string> extraArguments)
    {
        manifest.Write(directory);
        string script = Path.Combine(directory, FileName);
        SweepFiles.WriteAtomically(script, For(manifest, directory, bpfsim, extraArguments));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        }
        return [Path.Combine(directory, SweepManifest.FileName), script];
    }

    /// <summary>A shell word: as is when it holds nothing the shell reads, else single-quoted.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or '=' or ',')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
