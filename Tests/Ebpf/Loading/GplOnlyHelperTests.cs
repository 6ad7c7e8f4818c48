using BpfSim.Core.Bpf;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// check_helper_call (kernel/bpf/verifier.c): a program whose license is not GPL-compatible may not call a helper whose
/// bpf_func_proto has gpl_only (bpf_trace_printk, bpf_trace_vprintk, bpf_probe_read_kernel and _str; kernel/trace/bpf_trace.c).
/// </summary>
public sealed class GplOnlyHelperTests
{
    private static BpfResult Check(int helper, bool gplCompatible) =>
        ProgramChecks.Check("xdp_prog", [Insn.Mov64Imm(1, 0), Insn.Mov64Imm(2, 0), Insn.Call(helper), Insn.Mov64Imm(0, 2), Insn.Exit()],
            null, XdpBytecodeSupport.Instance, new FunctionTable(), gplCompatible);

    [TestCase(BaseHelpers.TracePrintk)]
    [TestCase(BaseHelpers.ProbeReadKernel)]
    [TestCase(BaseHelpers.ProbeReadKernelStr)]
    public void GplOnlyHelper_FromANonGplProgram_IsEinval(int helper)
    {
        var r = Check(helper, gplCompatible: false);
        Assert.That(r.Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(r.Reason, Does.Contain("cannot call GPL-restricted function from non-GPL compatible program"));
        Assert.That(Check(helper, gplCompatible: true).IsOk, "a GPL program may");
    }

    [TestCase(BaseHelpers.GetCurrentPidTgid)]
    [TestCase(BaseHelpers.KtimeGetNs)]
    [TestCase(BaseHelpers.GetPrandomU32)]
    public void OtherHelpers_TakeAnyLicense(int helper) => Assert.That(Check(helper, gplCompatible: false).IsOk);

    [Test]
    public void AHelperTheTypeLacks_IsRefusedForThatFirst()
    {
        // get_func_proto comes before the license: bpf_get_current_comm (16) is not an XDP helper at all.
        var r = Check(16, gplCompatible: false);
        Assert.That(r.Reason, Does.Not.Contain("GPL"));
    }
}
