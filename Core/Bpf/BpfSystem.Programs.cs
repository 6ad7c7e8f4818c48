using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    private static readonly string[] s_gplCompatible =
        ["GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"];

    /// <summary>
    /// Count program runs and run time (BPF_ENABLE_STATS / kernel.bpf_stats_enabled; off by default, as in the
    /// kernel). Takes effect for functions resolved after it is set.
    /// </summary>
    public bool StatsEnabled { get; set; }

    /// <summary>
    /// BPF_PROG_LOAD: a struct_ops program, with the checks of check_struct_ops_btf_id (kernel/bpf/verifier.c), or a
    /// packet program (XDP, SCHED_CLS, or EXT with the checks of bpf_check_attach_target).
    /// </summary>
    /// <returns>EINVAL: not GPL-compatible (struct_ops), unknown or non-function member, a body of the wrong signature,
    /// a bad name or a sleepable program where the member forbids it, an unsimulated type; for EXT a missing target
    /// function, a target that is itself EXT, or a target of a type other than XDP/SCHED_CLS; EBADF: EXT attach_prog_fd
    /// not open; ENOTSUPP: unknown struct_ops type, or a member the type does not support (get_info of
    /// tcp_congestion_ops); the type's check_member errors.</returns>
    public BpfResult ProgLoad(ProgramSpec spec, out int fd)
    {
        fd = -1;
        ArgumentNullException.ThrowIfNull(spec);
        StructOpsType? type = null;
        StructOpsMember? member = null;
        BpfProgram? target = null;
        var r = spec.Type is ProgramType.Xdp or ProgramType.SchedCls or ProgramType.Ext
            ? CheckPacketProgram(spec, out target)
            : CheckProgram(spec, out type, out member);
        if (!r.IsOk)
        {
            return r.For(BpfCommand.ProgLoad);
        }
        var prog = new BpfProgram(this, spec, type, member);
        if (target is not null)
        {
            // The EXT program keeps its load-time target alive until it is first attached (aux->dst_prog).
            target.Inc();
            prog.AttachTarget = target;
            prog.AttachFunc = spec.AttachFunc;
            prog.ExtendedType = target.Type;
        }
        fd = Caller.Install(prog);
        return BpfResult.Ok;
    }

    private BpfResult CheckProgram(ProgramSpec spec, out StructOpsType? type, out StructOpsMember? member)
    {
        type = null;
        member = null;
        if (!IsValidObjectName(spec.Name))
        {
            return BpfResult.Fail(Errno.EINVAL, $"program name '{spec.Name}' must be at most 15 characters of [A-Za-z0-9_.]");
        }
        if (spec.Type != ProgramType.StructOps)
        {
            return BpfResult.Fail(Errno.EINVAL, $"program type {spec.Type} is not simulated: bpfsim loads struct_ops, xdp, sched_cls and ext programs");
        }
        if (!s_gplCompatible.Contains(spec.License))
        {
            return BpfResult.Fail(Errno.EINVAL, "struct ops programs must have a GPL compatible license");
        }
        type = spec.StructOpsType is null ? null : FindStructOpsType(spec.StructOpsType);
        if (type is null)
        {
            return BpfResult.Fail(Errno.ENOTSUPP, $"struct_ops type '{spec.StructOpsType}' is not registered");
        }
        member = spec.Member is null ? null : type.FindMember(spec.Member);
        if (member is null || !member.IsFunction)
        {
            return BpfResult.Fail(Errno.EINVAL, $"'{spec.Member}' is not a function member of struct {type.Name}");
        }
        if (!member.Supported)
        {
            return BpfResult.Fail(Errno.ENOTSUPP, $"attach to unsupported member {member.Name} of struct {type.Name}");
        }
        if (spec.Sleepable && !member.AllowSleepable)
        {
            return BpfResult.Fail(Errno.EINVAL, $"member {member.Name} of struct {type.Name} cannot be sleepable");
        }
        if (spec.Body is null || spec.Body.GetType() != member.Signature)
        {
            return BpfResult.Fail(Errno.EINVAL,
                $"body of {spec.Name} is {spec.Body?.GetType().Name ?? "missing"}; {type.Name}.{member.Name} needs {member.Signature!.Name} ({member.CPrototype})");
        }
        return type.CheckMember(member, spec);
    }

    /// <summary>BPF_PROG_GET_FD_BY_ID.</summary>
    public BpfResult ProgGetFdById(uint id, out int fd)
    {
        fd = -1;
        if (!Objects.TryGet(BpfObjectKind.Program, id, out var obj) || !obj.TryInc())
        {
            return BpfResult.Fail(Errno.ENOENT, $"no program with id {id}").For(BpfCommand.ProgGetFdById);
        }
        fd = Caller.Install(obj);
        return BpfResult.Ok;
    }

    /// <summary>BPF_OBJ_GET_INFO_BY_FD for a program fd.</summary>
    public BpfResult ObjGetInfoByFd(int fd, out BpfProgInfo info)
    {
        info = null!;
        switch (Caller.Get(fd))
        {
            case null:
                return BpfResult.Fail(Errno.EBADF, $"fd {fd} is not open").For(BpfCommand.ObjGetInfoByFd);
            case BpfProgram p:
                info = p.Info;
                return BpfResult.Ok;
            default:
                return BpfResult.Fail(Errno.EINVAL, $"fd {fd} is not a program").For(BpfCommand.ObjGetInfoByFd);
        }
    }
}
