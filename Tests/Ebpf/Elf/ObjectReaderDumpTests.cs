using BpfSim.Core.Ebpf.Elf;

namespace BpfSim.Tests.Ebpf.Elf;

/// <summary>Prints what the reader makes of objects: the committed ones, and any in BPFSIM_OBJECT_DIR (such as the kernel's selftests, built by hand).</summary>
public sealed class ObjectReaderDumpTests
{
    [Test]
    public void Describe_CommittedObjects_Prints()
    {
        foreach (string name in TestObjects.Names)
        {
            TestContext.Out.WriteLine($"== {name}");
            TestContext.Out.WriteLine(TestObjects.Describe(TestObjects.Read(name)));
        }
    }

    [Test]
    [Explicit("a manual check: set BPFSIM_OBJECT_DIR to a folder of objects built by hand (the kernel's selftests), then run it by name")]
    public void Describe_ObjectsInEnvironmentFolder_ParseFully()
    {
        string? folder = Environment.GetEnvironmentVariable("BPFSIM_OBJECT_DIR");
        if (string.IsNullOrEmpty(folder))
        {
            Assert.Ignore("set BPFSIM_OBJECT_DIR to a folder of .o files to parse them");
        }
        foreach (string path in Directory.GetFiles(folder!, "*.o").Order(StringComparer.Ordinal))
        {
            var spec = ObjectReader.Read(path);
            TestContext.Out.WriteLine($"== {Path.GetFileName(path)}");
            TestContext.Out.WriteLine(TestObjects.Describe(spec));
            TestContext.Out.WriteLine("core relos by kind: " + string.Join(", ", spec.Programs.Concat(spec.Subprograms)
                .SelectMany(p => p.CoreRelos).GroupBy(c => c.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}")));
        }
    }
}
