using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>
    /// The load-time checks of a packet program: the body type, and for EXT the target of bpf_check_attach_target
    /// (kernel/bpf/verifier.c): a loaded program, not itself EXT, with a global function of that name.
    /// </summary>
    private BpfResult CheckPacketProgram(ProgramSpec spec, out BpfProgram? target)
    {
        target = null;
        if (!IsValidObjectName(spec.Name))
        {
            return BpfResult.Fail(Errno.EINVAL, $"program name '{spec.Name}' must be at most 15 characters of [A-Za-z0-9_.]");
        }
        if (spec.Body is not PacketProgramFunc)
        {
            return BpfResult.Fail(Errno.EINVAL,
                $"body of {spec.Name} is {spec.Body?.GetType().Name ?? "missing"}; {BpfProgram.TypeName(spec.Type)} programs need a {nameof(PacketProgramFunc)}");
        }
        if (spec.Type != ProgramType.Ext)
        {
            return spec.AttachProgFd == 0 && spec.AttachFunc is null
                ? BpfResult.Ok
                : BpfResult.Fail(Errno.EINVAL, $"attach_prog_fd/attach_btf_id are for EXT programs, not {BpfProgram.TypeName(spec.Type)}");
        }
        if (spec.GlobalFunctions.Count != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "an EXT program cannot itself offer replaceable functions in bpfsim");
        }
        if (spec.AttachFunc is null || spec.AttachProgFd == 0)
        {
            // bpf_check_attach_target: "Tracing programs must provide btf_id"; no target prog: "Cannot replace kernel functions".
            return BpfResult.Fail(Errno.EINVAL, "EXT programs need attach_prog_fd and attach_btf_id (the function to replace)");
        }
        return CheckExtTarget(Caller.Get(spec.AttachProgFd), spec.AttachProgFd, spec.AttachFunc, out target);
    }

    /// <summary>The target checks shared by load and freplace link creation (bpf_check_attach_target).</summary>
    private static BpfResult CheckExtTarget(BpfObject? obj, int fd, string func, out BpfProgram? target)
    {
        target = null;
        switch (obj)
        {
            case null:
                return BpfResult.Fail(Errno.EBADF, $"attach_prog_fd {fd} is not open");
            case not BpfProgram:
                return BpfResult.Fail(Errno.EINVAL, $"attach_prog_fd {fd} is not a program");
        }
        var t = (BpfProgram)obj;
        if (t.Type == ProgramType.Ext)
        {
            return BpfResult.Fail(Errno.EINVAL, $"Cannot recursively attach: target {t.Name} (id {t.Id}) is itself an EXT program");
        }
        if (t.Type is not (ProgramType.Xdp or ProgramType.SchedCls))
        {
            return BpfResult.Fail(Errno.EINVAL, $"bpfsim extends only xdp and sched_cls programs, not {BpfProgram.TypeName(t.Type)}");
        }
        if (t.FunctionIndex(func) < 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"Subprog {func} doesn't exist in {t.Name} (id {t.Id})");
        }
        target = t;
        return BpfResult.Ok;
    }

    /// <summary>The program behind <paramref name="fd"/> (bpf_prog_get): EBADF if not open, EINVAL if not a program.</summary>
    private BpfResult ResolveProgram(int fd, out BpfProgram prog)
    {
        prog = null!;
        switch (Caller.Get(fd))
        {
            case null:
                return BpfResult.Fail(Errno.EBADF, $"prog fd {fd} is not open");
            case BpfProgram p:
                prog = p;
                return BpfResult.Ok;
            default:
                return BpfResult.Fail(Errno.EINVAL, $"fd {fd} is not a program");
        }
    }
}
