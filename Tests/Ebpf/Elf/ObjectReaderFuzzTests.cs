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
        var originals = TestObjects.Names.Select(TestObjects.Bytes).ToArray();
        var regions = originals.Select(Regions).ToArray();
        int parsed = 0, refused = 0;
        var slowest = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            int which = random.Next(originals.Length);
            byte[] mutant = Mutate(originals[which], regions[which], random);
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

    /// <summary>The byte ranges worth aiming at: ELF header, section header table, .BTF, .BTF.ext, relocation sections.</summary>
    private static (int Offset, int Size)[] Regions(byte[] elf)
    {
        int shoff = (int)BitConverter.ToUInt64(elf, 40);
        int shnum = BitConverter.ToUInt16(elf, 60);
        var list = new List<(int, int)> { (0, 64), (shoff, shnum * 64) };
        foreach (string name in new[] { ".BTF", ".BTF.ext", ".relstruct_ops", ".rel.struct_ops", ".rel.struct_ops.link", ".symtab", ".maps", ".struct_ops" })
        {
            try
            {
                var (offset, size) = TestObjects.SectionExtent(elf, name);
                if (size > 0)
                {
                    list.Add((offset, size));
                }
            }
            catch (InvalidOperationException)
            {
                // Not every object has every section.
            }
        }
        return [.. list];
    }

    private static byte[] Mutate(byte[] original, (int Offset, int Size)[] regions, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0:
                // Random bit flips anywhere.
                for (int k = random.Next(1, 9); k > 0; k--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }
                return bytes;
            case 1:
                // Truncation.
                return bytes[..random.Next(bytes.Length)];
            default:
            {
                // Byte changes inside one aimed-at region: random bytes, or boundary values in a 32-bit word.
                var (offset, size) = regions[random.Next(regions.Length)];
                for (int k = random.Next(1, 5); k > 0; k--)
                {
                    int at = offset + random.Next(size);
                    if (random.Next(2) == 0 && at + 4 <= bytes.Length)
                    {
                        uint[] values = [0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, (uint)random.Next()];
                        BitConverter.TryWriteBytes(bytes.AsSpan(at, 4), values[random.Next(values.Length)]);
                    }
                    else
                    {
                        bytes[at] = (byte)random.Next(256);
                    }
                }
                return bytes;
            }
        }
    }
}
