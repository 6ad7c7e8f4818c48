using NUnit.Framework;

// Outside any namespace, so NUnit runs it once around every fixture of the assembly.

/// <summary>
/// Gives the test run a temporary folder of its own and removes it at the end, so the scenarios, outputs and
/// objects tests write under <see cref="Path.GetTempPath"/> (and what the tools they start write under TMPDIR)
/// do not pile up in the machine's /tmp run after run.
/// </summary>
[SetUpFixture]
public sealed class TestTempFolder
{
    private string? _folder;
    private string? _previous;

    /// <summary>Points TMPDIR, which <see cref="Path.GetTempPath"/> reads on every call, at a fresh folder.</summary>
    [OneTimeSetUp]
    public void Create()
    {
        _previous = Environment.GetEnvironmentVariable("TMPDIR");
        _folder = Directory.CreateTempSubdirectory("bpfsim-tests-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", _folder);
    }

    /// <summary>Restores TMPDIR and deletes the folder with everything the run left in it.</summary>
    [OneTimeTearDown]
    public void Remove()
    {
        Environment.SetEnvironmentVariable("TMPDIR", _previous);
        if (_folder is null)
            return;
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A tool still holding a file open; the folder is in /tmp, which the machine clears.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
