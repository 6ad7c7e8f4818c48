using BpfSim.Studies;
using BpfSim.Tests.Ebpf;

namespace BpfSim.Tests.Cli;

/// <summary>
/// What the kernel refuses for an <c>xdp:</c> entry is bad input at the entry's line, before the run starts, as for a
/// struct_ops entry (docs/bpf-objects.md): a program the loader refuses (Tests/Ebpf/objects/xdp_faults, xdp_prog_array),
/// a devmap or cpumap program (dev_xdp_install refuses it a device), and a replace in the other attach mode (EBUSY).
/// </summary>
[Category("Cli")]
public sealed class XdpRefusalCliTests
{
    private static string Scenario(string xdp) => CliRun.Scenario($"""
        seed: 1
        duration: 2s
        flows:
          - {"{"} count: 2, cc: cubic {"}"}
        xdp:
        {xdp}
        """);

    private static string Entry(string objectName, string? program) =>
        $"  - {{ program: {TestObjects.PathOf(objectName)},{(program is null ? "" : $" name: {program},")} interface: router_left:access }}";

    [TestCase("validate", "xdp_faults", "xdp_unknown_helper", "BPF_PROG_LOAD: EINVAL (22): prog 'xdp_unknown_helper': invalid func unknown#999")]
    [TestCase("run", "xdp_faults", "xdp_unknown_helper", "BPF_PROG_LOAD: EINVAL (22): prog 'xdp_unknown_helper': invalid func unknown#999")]
    [TestCase("validate", "xdp_faults", "xdp_bad_helper", "BPF_PROG_LOAD: EINVAL (22): prog 'xdp_bad_helper': program of this type cannot use helper bpf_get_current_comm#16")]
    [TestCase("run", "xdp_faults.v3", "xdp_bad_helper", "BPF_PROG_LOAD: EINVAL (22): prog 'xdp_bad_helper': program of this type cannot use helper bpf_get_current_comm#16")]
    [TestCase("validate", "xdp_faults", "xdp_r10_write", "BPF_PROG_LOAD: EACCES (13): prog 'xdp_r10_write': frame pointer is read only (insn 0)")]
    [TestCase("run", "xdp_faults", "xdp_r10_write", "BPF_PROG_LOAD: EACCES (13): prog 'xdp_r10_write': frame pointer is read only (insn 0)")]
    [TestCase("validate", "xdp_faults", "xdp_stack_520", "BPF_PROG_LOAD: EACCES (13): prog 'xdp_stack_520': invalid stack off=-520 size=8 (insn 0)")]
    [TestCase("run", "xdp_faults", "xdp_stack_520", "BPF_PROG_LOAD: EACCES (13): prog 'xdp_stack_520': invalid stack off=-520 size=8 (insn 0)")]
    [TestCase("validate", "xdp_prog_array", null, "BPF_MAP_CREATE: EINVAL (22): map jump_table: map_type 3 is unknown or not supported by bpfsim")]
    [TestCase("run", "xdp_prog_array", null, "BPF_MAP_CREATE: EINVAL (22): map jump_table: map_type 3 is unknown or not supported by bpfsim")]
    [TestCase("validate", "xdp_faults", "xdp_devmap_prog", "BPF_LINK_CREATE: EINVAL (22): BPF_XDP_DEVMAP programs can not be attached to a device")]
    [TestCase("run", "xdp_faults", "xdp_devmap_prog", "BPF_LINK_CREATE: EINVAL (22): BPF_XDP_DEVMAP programs can not be attached to a device")]
    [TestCase("validate", "xdp_faults", "xdp_cpumap_prog", "BPF_LINK_CREATE: EINVAL (22): BPF_XDP_CPUMAP programs can not be attached to a device")]
    public void RefusedProgram_BadInputAtTheEntrysLine_WithTheKernelsMessage_BeforeTheRun(string command, string objectName, string? program, string message)
    {
        string file = Scenario(Entry(objectName, program));

        var (code, output, err) = CliRun.Invoke(command, file);

        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.StartWith($"{file}:6:5: t=0s: xdp {objectName}.o on router_left:access: {message}"));
        Assert.That(CliRun.AllLinesAreErrors(err), err);
        Assert.That(output, Is.Empty, "nothing was run");
    }

    [Test]
    public void TheProgramThatLoads_OfTheSameObject_Validates()
    {
        var (code, output, err) = CliRun.Invoke("validate", Scenario(Entry("xdp_faults", "xdp_pass")));

        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
        Assert.That(output, Does.Contain(": ok"));
    }

    [TestCase("validate", "link", "prog", "RTM_SETLINK IFLA_XDP: EBUSY (16): Can't replace active BPF XDP link; xdp_src_counter (line 6) holds the hook as a link (mode: link)")]
    [TestCase("run", "link", "prog", "RTM_SETLINK IFLA_XDP: EBUSY (16): Can't replace active BPF XDP link; xdp_src_counter (line 6) holds the hook as a link (mode: link)")]
    [TestCase("validate", "prog", "link", "BPF_LINK_CREATE: EBUSY (16): Can't replace active XDP program with BPF link; xdp_src_counter (line 6) holds the hook by its fd (mode: prog)")]
    [TestCase("run", "prog", "link", "BPF_LINK_CREATE: EBUSY (16): Can't replace active XDP program with BPF link; xdp_src_counter (line 6) holds the hook by its fd (mode: prog)")]
    public void ReplaceInTheOtherAttachMode_BadInputAtTheSecondEntrysLine_WithTheKernelsMessage(string command, string first, string second, string message)
    {
        string file = Scenario($"""
              - {"{"} program: xdp_src_counter, interface: router_left:access, at: 0s, mode: {first} {"}"}
              - {"{"} program: xdp_src_counter_cs, interface: router_left:access, at: 1s, mode: {second}, replace: true {"}"}
            """);

        var (code, output, err) = CliRun.Invoke(command, file);

        Assert.That(code, Is.EqualTo(ExitCodes.BadInput), err);
        Assert.That(err, Does.StartWith($"{file}:7:5: t=1s: xdp xdp_src_counter_cs on router_left:access: {message}"));
        Assert.That(output, Is.Empty, "nothing was run");
    }

    [TestCase("link")]
    [TestCase("prog")]
    public void ReplaceInTheSameAttachMode_Validates(string mode)
    {
        string file = Scenario($"""
              - {"{"} program: xdp_src_counter, interface: router_left:access, at: 0s, mode: {mode} {"}"}
              - {"{"} program: xdp_src_counter_cs, interface: router_left:access, at: 1s, mode: {mode}, replace: true {"}"}
            """);

        var (code, _, err) = CliRun.Invoke("validate", file);

        Assert.That(code, Is.EqualTo(ExitCodes.Success), err);
    }
}
