using BpfSim.Studies.Sweeps;

namespace BpfSim.Tests.Studies.Sweeps;

[Category("Sweep")]
public sealed class RunRecordTests
{
    [TestCase("{}")]
    [TestCase("""{"run": "p000-s01", "exit_code": 0, "status": "ok", "wall_s": 0.5, "errors": null, "warnings": []}""")]
    public void Read_FieldMissingOrNull_NotFinished(string json)
    {
        string dir = SweepFixtures.OutDir();
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, SweepFiles.Done), json);
        Assert.That(RunRecord.Read(dir), Is.Null);
    }
}
