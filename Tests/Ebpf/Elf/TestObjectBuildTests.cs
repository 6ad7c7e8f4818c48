using System.Diagnostics;

namespace BpfSim.Tests.Ebpf.Elf;

/// <summary>The committed test objects are what Tests/Ebpf/objects/build.sh makes from src/ (byte for byte: the script keeps paths out).</summary>
public sealed class TestObjectBuildTests
{
    [Test]
    public void BuildScript_RebuildsCommittedObjects_ByteIdentical()
    {
        if (!OnPath("clang-14"))
        {
            Assert.Ignore("clang-14 is not installed; the committed objects are used as they are");
        }
        string output = Path.Combine(Path.GetTempPath(), "bpfsim-objects-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("sh", [Path.Combine(TestObjects.Folder, "build.sh"), output]) { RedirectStandardError = true };
            using var process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, errors);
            Assert.Multiple(() =>
            {
                foreach (string name in TestObjects.Names.Concat(TestObjects.Refused).Concat(TestObjects.Xdp))
                {
                    byte[] rebuilt = File.ReadAllBytes(Path.Combine(output, name + ".o"));
                    Assert.That(rebuilt, Is.EqualTo(TestObjects.Bytes(name)), $"{name}.o differs from its rebuild: run Tests/Ebpf/objects/build.sh and commit");
                }
            });
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, tool)));
}
