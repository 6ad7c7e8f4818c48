using BpfSim.Studies;
using System.Text;
using System.Text.RegularExpressions;
using BpfSim.Cli;
using BpfSim.Studies.Scenarios;
using BpfSim.Core.Simulation;

namespace BpfSim.Tests.Cli;

/// <summary>
/// Mutates the shipped scenarios and the embedded default (fixed seed) and feeds every mutant to <c>validate</c>:
/// each must be accepted (exit 0) or refused with exit 2 and only <c>file:line:col:</c> / <c>bpfsim:</c> lines —
/// never an exception, a crash or a hang. A sample of the accepted ones is run briefly and must finish.
/// BPFSIM_FUZZ_CASES, BPFSIM_FUZZ_SEED, BPFSIM_FUZZ_RUNS and BPFSIM_FUZZ_RUN_DURATION override the case count (default
/// 2,000), the seed, how many valid mutants are run (60) and for how long (0.2s).
/// </summary>
[Category("Cli")]
public sealed class ScenarioFuzzTests
{
    private const int DefaultCases = 2000;
    private const int DefaultSeed = 20261126;
    private const int DefaultRuns = 60;

    private static readonly string[] s_extremeNumbers =
        ["0", "-1", "2147483647", "2147483648", "-2147483648", "9223372036854775807", "99999999999999999999", "1e308", "-1e308",
         "Infinity", "-Infinity", "NaN", "9223372036", "0.000000001", "1e-300", ".5", "1.", "0x10", "1_000", "00001"];

    private static readonly string[] s_units = ["ns", "us", "ms", "s", "bps", "Kbps", "Mbps", "Gbps", "B", "KB", "MB", "GB", "", "x", "9223372036s"];

    private static readonly byte[][] s_insertions =
    [
        [0], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], "{"u8.ToArray(), "["u8.ToArray(), "}"u8.ToArray(), "]"u8.ToArray(),
        "&a "u8.ToArray(), "*a"u8.ToArray(), ":"u8.ToArray(), ": "u8.ToArray(), "\t"u8.ToArray(), "\""u8.ToArray(), "'"u8.ToArray(),
        "- "u8.ToArray(), "? "u8.ToArray(), "!!binary "u8.ToArray(), "%YAML 1.1\n"u8.ToArray(), "---\n"u8.ToArray(), "\r"u8.ToArray(),
        "#"u8.ToArray(), "|"u8.ToArray(), ">"u8.ToArray(), "\n  "u8.ToArray(), "<<: "u8.ToArray(), "@"u8.ToArray(), "`"u8.ToArray(),
    ];

    private static readonly string[] s_lines =
    [
        "&a [*a]: 1", "x: &a [*a]", "x: &b { y: *b }", "x: *zz", "? [a, b]\n: 1", "{ a: 1", "[", "flows: {", "- { cc: reno",
        "structops:\n  - { program: bpf_reno_link_v1, at: 0s }\n  - { program: bpf_reno_link_v2, at: 1s }",
        "structops:\n  - { program: bpf_reno_link_v1, at: 0s, unregister_at: 1s }\n  - { program: bpf_reno_link_v2, at: 2s, replace: bpf_reno_link_v1 }",
        "structops:\n  - { program: loop.dll, at: 0s }", "structops:\n  - { program: dangling.dll, at: 0s }",
        "structops:\n  - { program: broken/MyCc.dll, at: 0s }", "structops:\n  - { program: TwoCcs.dll, at: 0s }",
        "structops:\n  - { program: TwoCcs.dll, map: two_b, at: 0s }", "structops:\n  - { program: CubicClash.dll, at: 0s }",
        "structops:\n  - { program: dir.dll, at: 0s }", "structops:\n  - { program: bpf_dctcp, at: 0s, unregister_at: 1s }",
        "flows:\n  - { count: 2147483647, cc: reno }", "flows:\n  - { arrivals: poisson, rate: 1e12, size: 1KB, stop: 1000000s }",
        "sample_interval: 1ns", "network: { topology: parking_lot, hops: 2147483647 }", "network: { access: { rate: 1000000Gbps, delay: 0 } }",
        "duration: 9223372036s", "seed: -1", "ecn: 3", "receiver_cc: two_a", "flows: []", "flows: [ { cc: two_a }, { cc: two_b } ]",
    ];

    private static string? s_dir;

    /// <summary>A folder with the scenarios' neighbours: test consumers, a symlink loop, a dangling link, a malformed .deps.json.</summary>
    private static string FuzzDirectory()
    {
        if (s_dir is not null)
        {
            return s_dir;
        }
        string dir = Path.Combine(Path.GetTempPath(), $"bpfsim-fuzz-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "broken"));
        Directory.CreateDirectory(Path.Combine(dir, "dir.dll"));
        File.CreateSymbolicLink(Path.Combine(dir, "loop.dll"), Path.Combine(dir, "loop.dll"));
        File.CreateSymbolicLink(Path.Combine(dir, "dangling.dll"), Path.Combine(dir, "gone.dll"));
        File.Copy(CliRun.ConsumerDll("ExternalConsumer", "MyCc"), Path.Combine(dir, "broken", "MyCc.dll"));
        File.WriteAllText(Path.Combine(dir, "broken", "MyCc.deps.json"), "{ \"targets\": [ ");
        File.Copy(CliRun.ConsumerDll("TestConsumers/TwoCcs", "TwoCcs"), Path.Combine(dir, "TwoCcs.dll"));
        File.Copy(CliRun.ConsumerDll("TestConsumers/CubicClash", "CubicClash"), Path.Combine(dir, "CubicClash.dll"));
        return s_dir = dir;
    }

    private static List<byte[]> Seeds()
    {
        var seeds = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "scenarios"), "*.yaml").Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes).ToList();
        seeds.Add(Encoding.UTF8.GetBytes(ScenarioLoader.DefaultText()));
        return seeds;
    }

    private static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

    [Test]
    public void MutatedScenarios_ValidateExitsZeroOrTwoWithLocatedErrors_AndValidOnesRun()
    {
        int cases = FromEnvironment("BPFSIM_FUZZ_CASES", DefaultCases);
        var random = new Random(FromEnvironment("BPFSIM_FUZZ_SEED", DefaultSeed));
        string dir = FuzzDirectory();
        var seeds = Seeds();
        var valid = new List<string>();
        int refused = 0;
        for (int i = 0; i < cases; i++)
        {
            byte[] mutant = seeds[random.Next(seeds.Count)];
            int mutations = 1 + random.Next(3);
            for (int m = 0; m < mutations; m++)
            {
                mutant = Mutate(mutant, random);
            }
            string file = Path.Combine(dir, $"case{i}.yaml");
            File.WriteAllBytes(file, mutant);
            var (code, output, err) = CliRun.Invoke("validate", file);
            Assert.That(code, Is.EqualTo(ExitCodes.Success).Or.EqualTo(ExitCodes.BadInput), $"case {i} ({file}): {err}");
            if (code == ExitCodes.BadInput)
            {
                Assert.That(err, Is.Not.Empty, $"case {i}: refused without saying why");
                Assert.That(CliRun.AllLinesAreErrors(err), $"case {i} ({file}): {err}");
                refused++;
                File.Delete(file);
            }
            else
            {
                Assert.That(output, Does.Contain(": ok"), $"case {i}");
                valid.Add(file);
            }
        }
        TestContext.Progress.WriteLine($"fuzz: {cases} mutants, {valid.Count} valid (exit 0), {refused} refused (exit 2)");
        Assert.That(valid, Is.Not.Empty, "the mutations should leave some scenarios valid");
        Assert.That(refused, Is.GreaterThan(cases / 4), "the mutations should break most scenarios");
        RunSome(valid, random);
    }

    /// <summary>Runs a sample of the valid mutants briefly: each finishes (exit 0), or names what failed (exit 2).</summary>
    private static void RunSome(List<string> valid, Random random)
    {
        var (factory, catalog) = Composition.Create([]);
        int runs = FromEnvironment("BPFSIM_FUZZ_RUNS", DefaultRuns);
        string duration = Environment.GetEnvironmentVariable("BPFSIM_FUZZ_RUN_DURATION") ?? "0.2s";
        int ran = 0;
        foreach (var file in valid.OrderBy(_ => random.Next()))
        {
            if (ran == runs)
            {
                break;
            }
            var scenario = ScenarioLoader.Load(file, factory, catalog).WithDuration(SimTime.Parse(duration));
            if (scenario.Estimate().WallSeconds > 2)
            {
                continue; // valid and would run, but the suite keeps to short runs
            }
            var (code, _, err) = CliRun.Invoke("run", file, "--duration", duration, "--quiet");
            // 3: a valid scenario whose scheduler or consumer faulted and was ejected (a mutant of scx_stall.yaml).
            Assert.That(code, Is.EqualTo(ExitCodes.Success).Or.EqualTo(ExitCodes.BadInput).Or.EqualTo(ExitCodes.CompletedWithFault), $"{file}: {err}");
            Assert.That(CliRun.AllLinesAreErrors(err), $"{file}: {err}");
            ran++;
        }
        TestContext.Progress.WriteLine($"fuzz: ran {ran} valid mutants for {duration}");
    }

    private static byte[] Mutate(byte[] bytes, Random random)
    {
        var lines = Split(bytes);
        switch (random.Next(12))
        {
            case 0 when lines.Count > 1:
                lines.RemoveAt(random.Next(lines.Count));
                break;
            case 1:
                int d = random.Next(lines.Count);
                lines.Insert(d, lines[d]);
                break;
            case 2 when lines.Count > 1:
                int a = random.Next(lines.Count), b = random.Next(lines.Count);
                (lines[a], lines[b]) = (lines[b], lines[a]);
                break;
            case 3:
                int at = random.Next(bytes.Length + 1);
                return [.. bytes.AsSpan(0, at), .. s_insertions[random.Next(s_insertions.Length)], .. bytes.AsSpan(at)];
            case 4:
                return ReplaceOne(bytes, @"\d+(\.\d+)?", s_extremeNumbers[random.Next(s_extremeNumbers.Length)], random);
            case 5:
                return ReplaceOne(bytes, @"(?<=\d)(ns|us|ms|s|bps|Kbps|Mbps|Gbps|B|KB|MB|GB)\b", s_units[random.Next(s_units.Length)], random);
            case 6:
                int depth = 1 + random.Next(ScenarioLimits.MaxDepth * 2);
                lines.Insert(random.Next(lines.Count + 1), Encoding.UTF8.GetBytes($"nest: {new string('[', depth)}{new string(']', random.Next(2) * depth)}"));
                break;
            case 7:
                lines.Insert(random.Next(lines.Count + 1), Encoding.UTF8.GetBytes(AliasBomb(random)));
                break;
            case 8:
                return bytes[..random.Next(bytes.Length + 1)];
            case 9:
                lines.Insert(random.Next(lines.Count + 1), Encoding.UTF8.GetBytes(s_lines[random.Next(s_lines.Length)]));
                break;
            case 10:
                return ReplaceOne(bytes, @"\b(cubic|reno|dctcp|bbr|bpf_[a-z_0-9]+)\b",
                    new[] { "two_a", "two_b", "cubic", "bpf_reno_link", "my_cc", "fake_cubic", "TwoCcs.dll", "loop.dll", "" }[random.Next(9)], random);
            default:
                // A line re-indented: YAML's structure is its indentation.
                int r = random.Next(lines.Count);
                lines[r] = [.. Encoding.UTF8.GetBytes(new string(' ', random.Next(6))), .. lines[r].SkipWhile(c => c == ' ')];
                break;
        }
        return Join(lines);
    }

    private static string AliasBomb(Random random)
    {
        var text = new StringBuilder("b0: &b0 [x, x, x, x, x, x, x, x, x, x]\n");
        int levels = 1 + random.Next(8);
        for (int i = 1; i <= levels; i++)
        {
            text.Append($"b{i}: &b{i} [{string.Join(", ", Enumerable.Repeat($"*b{i - 1}", 10))}]\n");
        }
        return text.ToString();
    }

    private static byte[] ReplaceOne(byte[] bytes, string pattern, string replacement, Random random)
    {
        string text = Encoding.Latin1.GetString(bytes); // byte-preserving, so invalid UTF-8 stays as it was
        var matches = Regex.Matches(text, pattern);
        if (matches.Count == 0)
        {
            return bytes;
        }
        var m = matches[random.Next(matches.Count)];
        return Encoding.Latin1.GetBytes(text[..m.Index] + replacement + text[(m.Index + m.Length)..]);
    }

    private static List<byte[]> Split(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i <= bytes.Length; i++)
        {
            if (i == bytes.Length || bytes[i] == '\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        }
        return lines;
    }

    private static byte[] Join(List<byte[]> lines) =>
        lines.SelectMany((l, i) => i == 0 ? l : [(byte)'\n', .. l]).ToArray();
}
