using BpfSim.Studies;
using System.Diagnostics;
using System.Text.Json;
using BpfSim.Cli;
using BpfSim.Tests.Ebpf;

namespace BpfSim.Tests.Cli;

/// <summary>
/// The misbehaving variables of Tests/Ebpf/objects/tcp_ca_faults through the command: a variable the kernel refuses
/// is bad input at its entry's line (exit 2, the kernel's errno and words); one that faults at run time is ejected
/// and the run completes (exit 3, the fault in summary.json).
/// </summary>
[Category("Cli")]
public sealed class ObjectFaultCliTests
{
    private static string Scenario(string objectName, string map, double seconds = 2) => CliRun.Scenario($"""
        seed: 2
        duration: {seconds}s
        structops:
          - {"{"} program: {TestObjects.PathOf(objectName)}, map: {map}, at: 0s {"}"}
        flows:
          - {"{"} count: 2, cc: reno, start: 0s {"}"}
        """);

    [TestCase("validate", "tcp_ca_faults", "bad_write", "EACCES (13): prog 'bad_write_cong_avoid': no write support to tcp_sock at off ")]
    [TestCase("run", "tcp_ca_faults", "bad_write", "EACCES (13): prog 'bad_write_cong_avoid': no write support to tcp_sock at off ")]
    [TestCase("validate", "tcp_ca_faults", "bad_helper", "EINVAL (22): prog 'bad_helper_cong_avoid': program of this type cannot use helper bpf_get_current_comm#16")]
    [TestCase("run", "tcp_ca_faults", "bad_helper", "EINVAL (22): prog 'bad_helper_cong_avoid': program of this type cannot use helper bpf_get_current_comm#16")]
    [TestCase("validate", "tcp_ca_faults", "bad_kfunc", "ESRCH (3): extern (func ksym) 'bpfsim_no_such_kfunc': not found in kernel or module BTFs")]
    [TestCase("run", "tcp_ca_faults.v3", "bad_kfunc", "ESRCH (3): extern (func ksym) 'bpfsim_no_such_kfunc': not found in kernel or module BTFs")]
    [TestCase("validate", "tcp_ca_nogpl", "nogpl_ca", "EINVAL (22): license 'X': struct ops programs must have a GPL compatible license")]
    [TestCase("run", "tcp_ca_nogpl", "nogpl_ca", "EINVAL (22): license 'X': struct ops programs must have a GPL compatible license")]
    public void RefusedVariable_BadInputAtTheEntrysLine_WithTheKernelsMessage(string command, string objectName, string map, string message)
    {
        string file = Scenario(objectName, map);

        var (code, output, err) = CliRun.Invoke(command, file);

        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.StartWith($"{file}:4:5: t=0s: can't register struct_ops {map}: BPF_PROG_LOAD: {message}"));
        Assert.That(CliRun.AllLinesAreErrors(err), err);
        Assert.That(err, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(output, Does.Not.Contain("goodput"), "nothing was run");
    }

    [TestCase("oob_read")]
    [TestCase("spin")]
    [TestCase("weak_kfunc")]
    [TestCase("printk")]
    public void VariableThatLoads_Validates(string map)
    {
        var (code, output, err) = CliRun.Invoke("validate", Scenario("tcp_ca_faults", map));

        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain(": ok"));
    }

    [Test]
    public void OutOfBoundsRead_BuiltCommand_RunCompletes_Exit3_SummaryHasTheFault()
    {
        string dir = Directory.CreateTempSubdirectory("bpfsim-objfault-").FullName;
        try
        {
            string file = Path.Combine(dir, "oob.yaml");
            File.WriteAllText(file, $"""
                seed: 2
                duration: 3s
                network:
                  bottleneck: {"{"} rate: 20Mbps, delay: 10ms {"}"}
                structops:
                  - {"{"} program: {TestObjects.PathOf("tcp_ca_faults")}, map: oob_read, at: 0s {"}"}
                flows:
                  - {"{"} count: 2, cc: t_oob_read, start: 0s {"}"}
                  - {"{"} count: 1, cc: reno, start: 0s {"}"}
                """);
            string outDir = Path.Combine(dir, "out");
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "bpfsim.dll"), "run", file, "--out", outDir })
            {
                psi.ArgumentList.Add(a);
            }
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            string err = p.StandardError.ReadToEnd();
            Assert.That(p.WaitForExit(120_000), "bpfsim finished");

            Assert.That(p.ExitCode, Is.EqualTo(ExitCodes.CompletedWithFault), err);
            Assert.That(err, Does.Contain("bpfsim: consumer fault: t=").And.Contain("t_oob_read.cong_avoid: BpfFault: access beyond struct tcp_sock at off 100000 size 4"));
            Assert.That(stdout.Result, Does.Contain("consumer faults"));
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
            var fault = summary.RootElement.GetProperty("faults").EnumerateArray().Single();
            Assert.That(fault.GetProperty("consumer").GetString(), Is.EqualTo("t_oob_read"));
            Assert.That(fault.GetProperty("member").GetString(), Is.EqualTo("cong_avoid"));
            Assert.That(fault.GetProperty("kind").GetString(), Is.EqualTo("Exception"));
            Assert.That(fault.GetProperty("message").GetString(), Is.EqualTo("BpfFault: access beyond struct tcp_sock at off 100000 size 4"));
            Assert.That(fault.GetProperty("t_s").GetDouble(), Is.InRange(0.1, 1.0));
            Assert.That(summary.RootElement.GetProperty("sim_time_s").GetDouble(), Is.EqualTo(3));
            var moved = summary.RootElement.GetProperty("flows").EnumerateArray()
                .Where(f => f.GetProperty("cc_requested").GetString() == "t_oob_read").Select(f => f.GetProperty("cc").GetString());
            Assert.That(moved, Is.EqualTo(new[] { "cubic", "cubic" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
