using System.Diagnostics;
using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Simulation;
using BpfSim.Tcp.Net;
using BpfSim.Tests.Programs;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// Damages the committed objects (the test objects and bpfsim's own BPF consumers) with a fixed seed — mostly their
/// instructions: opcodes, registers, offsets, immediates — and takes every mutant that still parses through the whole
/// load into a fresh kernel: <see cref="ObjectLoader.Load"/>, then <see cref="StructOpsObjectLoader.Load"/> and
/// Register for each struct_ops variable, then a short flow on each algorithm registered. Each step must end in a
/// <see cref="BpfResult"/>, success or the kernel's errno, and a run may only eject a program for its own BpfFault,
/// quickly: never another exception, never a hang. BPFSIM_FUZZ_MUTANTS sets the count (default 2,000).
/// </summary>
public sealed class ObjectLoaderFuzzTests
{
    private const int DefaultMutants = 2000;
    private static readonly TimeSpan s_perMutantLimit = TimeSpan.FromSeconds(10);

    /// <summary>What happened to the mutants, step by step.</summary>
    private sealed class Counts
    {
        public int ReaderRefused;
        public int Parsed;
        public int ObjectLoaded;
        public int Variables;
        public int Registered;
        public int Ran;
        public int RunFaults;
        public readonly SortedDictionary<string, int> Refusals = new(StringComparer.Ordinal);

        public void Refused(string step, BpfResult r)
        {
            string key = $"{step} {r.Reason.Split(':')[0]} {r.Errno}";
            Refusals[key] = Refusals.GetValueOrDefault(key) + 1;
        }
    }

    [Test]
    public void Load_Mutants_EndInABpfResult()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("BPFSIM_FUZZ_MUTANTS"), out int n) && n > 0 ? n : DefaultMutants;
        var random = new Random(20260311);
        var mutators = TestObjects.Names.Select(name => new ObjectMutator(name, TestObjects.Bytes(name)))
            .Concat(BpfObjects.Names.Select(name => new ObjectMutator(name + ".bpf", File.ReadAllBytes(BpfObjects.PathOf(name)))))
            .ToArray();
        var counts = new Counts();
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            var mutator = mutators[random.Next(mutators.Length)];
            byte[] mutant = mutator.Mutate(random, instructions: true);
            var watch = Stopwatch.StartNew();
            var task = Task.Run(() =>
            {
                try
                {
                    LoadAll(mutant, mutator.Name, counts);
                    return (Exception?)null;
                }
                catch (Exception e)
                {
                    return e;
                }
            });
            if (!task.Wait(s_perMutantLimit))
            {
                Assert.Fail($"mutant {i} of {mutator.Name} did not finish in {s_perMutantLimit} (saved as {Save(mutant, i, mutator.Name)})");
            }
            if (task.Result is { } error)
            {
                Assert.Fail($"mutant {i} of {mutator.Name} (saved as {Save(mutant, i, mutator.Name)}): {error.GetType().Name}: {error}");
            }
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
        }
        TestContext.Out.WriteLine($"{count} mutants: {counts.ReaderRefused} refused by the reader, {counts.Parsed} parsed, " +
                                  $"{counts.ObjectLoaded} objects loaded; {counts.Variables} struct_ops variables, {counts.Registered} registered; " +
                                  $"{counts.Ran} algorithms ran a flow, {counts.RunFaults} of them faulted (a BpfFault) and were ejected; " +
                                  $"slowest {slowest.TotalMilliseconds:F1} ms");
        foreach (var (key, value) in counts.Refusals)
        {
            TestContext.Out.WriteLine($"  refused at {key}: {value}");
        }
        Assert.That(counts.ReaderRefused + counts.Parsed, Is.EqualTo(count));
        Assert.That(counts.Refusals.Keys, Has.Some.StartsWith("variable BPF_PROG_LOAD EACCES"), "the instruction changes reached the load-time checks");
        Assert.That(counts.Registered, Is.GreaterThan(0), "and some mutants still pass them");
    }

    /// <summary>
    /// Reads, loads and registers everything in <paramref name="bytes"/>, counting each step's outcome, then runs one
    /// flow on each algorithm registered: a program that passed the checks may fault (a BpfFault, which ejects it),
    /// but nothing else may go wrong.
    /// </summary>
    private static void LoadAll(byte[] bytes, string name, Counts counts)
    {
        BpfSim.Core.Ebpf.Spec.ObjectSpec spec;
        try
        {
            spec = ObjectReader.Read(bytes, name);
        }
        catch (Exception e) when (e is ObjectFormatException or BtfException)
        {
            Interlocked.Increment(ref counts.ReaderRefused);
            return;
        }
        Interlocked.Increment(ref counts.Parsed);
        var s = new TcpScenario(new DumbbellOptions { BottleneckRateBps = 20_000_000, BottleneckDelay = SimTime.FromMilliseconds(5) });
        var bpf = s.System.Bpf;
        var builtin = s.System.Registry.Available.Select(ca => ca.Name).ToHashSet();
        // Maps and global data first; each variable's programs load with it, as consumers load them.
        var r = ObjectLoader.Load(bpf, spec, name, out var obj, autocreate: []);
        lock (counts)
        {
            if (!r.IsOk)
            {
                counts.Refused("object", r);
                return;
            }
            counts.ObjectLoaded++;
        }
        foreach (var variable in spec.StructOps)
        {
            r = StructOpsObjectLoader.Load(bpf, obj!, variable, out var loaded);
            if (r.IsOk)
            {
                r = loaded!.Register();
            }
            lock (counts)
            {
                counts.Variables++;
                if (r.IsOk)
                {
                    counts.Registered++;
                }
                else
                {
                    counts.Refused("variable", r);
                }
            }
        }
        var added = s.System.Registry.Available.Where(ca => !builtin.Contains(ca.Name)).Select(ca => ca.Name).ToList();
        if (added.Count == 0)
        {
            return;
        }
        foreach (string cc in added)
        {
            s.Flow(cc);
        }
        s.RunFor(0.2);
        foreach (var guard in s.System.Type.Guards)
        {
            if (guard.Fault is { } fault)
            {
                Assert.That(fault.Message, Does.StartWith("BpfFault: "), $"{fault}: only the program's own faults may eject it");
                Interlocked.Increment(ref counts.RunFaults);
            }
        }
        Interlocked.Add(ref counts.Ran, added.Count);
    }

    private static string Save(byte[] mutant, int i, string name)
    {
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"loader-mutant-{i}-{name}.o");
        File.WriteAllBytes(path, mutant);
        return path;
    }
}
