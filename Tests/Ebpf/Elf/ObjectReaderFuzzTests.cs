using System.Diagnostics;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Elf;

namespace BpfSim.Tests.Ebpf.Elf;

/// <summary>
/// Mutates the committed objects with a fixed seed — bit flips, truncations, and byte changes aimed at the ELF header,
/// the section header table, .BTF, .BTF.ext and the relocation sections — and requires every mutant to parse or to be
/// refused with ObjectFormatException/BtfException, quickly. BPFSIM_FUZZ_MUTANTS sets the count (default 2,000).
/// </summary>
public sealed class ObjectReaderFuzzTests
{
    private const int DefaultMutants = 2000;
    private static readonly TimeSpan s_perMutantLimit = TimeSpan.FromSeconds(5);

    [Test]
    public void Read_Mutants_ParseOrThrowFormatErrors()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("BPFSIM_FUZZ_MUTANTS"), out int n) && n > 0 ? n : DefaultMutants;
        var random = new Random(20251126);
        var mutators = TestObjects.Names.Select(n => new ObjectMutator(n, TestObjects.Bytes(n))).ToArray();
        int parsed = 0, refused = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            int which = random.Next(mutators.Length);
            byte[] mutant = mutators[which].Mutate(random, instructions: false);
            var watch = Stopwatch.StartNew();
            var task = Task.Run(() =>
            {
                try
                {
                    ObjectReader.Read(mutant, "mutant");
                    return (Exception?)null;
                }
                catch (Exception e)
                {
                    return e;
                }
            });
            Assert.That(task.Wait(s_perMutantLimit), Is.True, $"mutant {i} of {TestObjects.Names[which]} did not finish in {s_perMutantLimit}");
            var error = task.Result;
            if (error == null)
            {
                parsed++;
            }
            else if (error is ObjectFormatException or BtfException)
            {
                refused++;
            }
            else
            {
                Assert.Fail($"mutant {i} of {TestObjects.Names[which]}: {error.GetType().Name}: {error}");
            }
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
        }
        TestContext.Out.WriteLine($"{count} mutants: {parsed} parsed, {refused} refused; slowest {slowest.TotalMilliseconds:F1} ms");
        Assert.That(parsed + refused, Is.EqualTo(count));
    }
}
