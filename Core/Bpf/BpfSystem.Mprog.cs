using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.MultiProg.Mprog;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>
    /// BPF_PROG_ATTACH with attach type BPF_TCX_INGRESS (tcx_prog_attach, bpf_mprog_attach): places the SCHED_CLS
    /// program <paramref name="progFd"/> in the device's tcx bundle. <paramref name="relativeFdOrId"/> names the
    /// relative program or link (by id with <see cref="MprogFlags.Id"/>, a link with <see cref="MprogFlags.Link"/>; 0
    /// none); <paramref name="expectedRevision"/> ≠ 0 must equal the current revision; with
    /// <see cref="MprogFlags.Replace"/>, <paramref name="replaceProgFd"/> is the program to replace.
    /// </summary>
    /// <returns>In the kernel's order: EINVAL unknown flags; EBADF/EINVAL bad or non-SCHED_CLS program fd; ENODEV
    /// unknown device; EBADF/EINVAL bad replace fd; ESTALE revision mismatch; EEXIST program already attached; the
    /// relative object's lookup error (EBADF, ENOENT by id, EINVAL of another type or none given with BPF_F_LINK); REPLACE: ENOENT old program absent,
    /// EBUSY it is owned by a link; ERANGE the bundle is full (63) or BEFORE/AFTER/REPLACE disagree; ENOENT the relative
    /// object is not in the bundle; EINVAL a relative object without BEFORE/AFTER.</returns>
    public BpfResult ProgAttach(uint ifindex, int progFd, MprogFlags flags, uint relativeFdOrId, ulong expectedRevision, int replaceProgFd = 0)
    {
        var r = CheckMprogFlags(flags);
        if (r.IsOk)
        {
            // bpf_prog_attach resolves the program; tcx_prog_attach then the device, then replace_bpf_fd.
            r = ResolveSchedCls(progFd, out var prog);
            NetDevice? dev = null;
            if (r.IsOk)
            {
                r = ResolveDevice(ifindex, out dev);
            }
            BpfProgram? old = null;
            if (r.IsOk && (flags & MprogFlags.Replace) != 0)
            {
                r = ResolveSchedCls(replaceProgFd, out old);
            }
            if (r.IsOk)
            {
                r = TcxAttach(dev!, new MprogTuple(prog, null), old, flags, relativeFdOrId, expectedRevision);
                if (r.IsOk)
                {
                    prog.Inc();
                    // bpf_mprog_replace drops the replaced program's reference (not a link's).
                    old?.Put();
                }
            }
        }
        return r.For(BpfCommand.ProgAttach);
    }

    /// <summary>
    /// BPF_PROG_DETACH with attach type BPF_TCX_INGRESS (tcx_prog_detach, bpf_mprog_detach): removes
    /// <paramref name="progFd"/> (0 or negative: no program, the position decides), or the entry BEFORE/AFTER the
    /// relative object, or the last one.
    /// </summary>
    /// <returns>EINVAL unknown flags or BPF_F_REPLACE; EBADF/EINVAL bad or non-SCHED_CLS fd; ENODEV unknown device;
    /// ENOENT nothing attached; ESTALE revision mismatch; the relative lookup errors; ENOENT program or relative object
    /// absent; EBUSY the entry belongs to a link; ERANGE positions disagree.</returns>
    public BpfResult ProgDetach(uint ifindex, int progFd, MprogFlags flags, uint relativeFdOrId, ulong expectedRevision)
    {
        var r = CheckMprogFlags(flags);
        BpfProgram? prog = null;
        if (r.IsOk && progFd > 0)
        {
            r = ResolveSchedCls(progFd, out var p);
            prog = p;
        }
        if (r.IsOk)
        {
            r = ResolveDevice(ifindex, out var dev);
            if (r.IsOk)
            {
                r = TcxDetach(dev, new MprogTuple(prog, null), flags, relativeFdOrId, expectedRevision, out var removed);
                if (r.IsOk)
                {
                    removed.Prog!.Put();
                }
            }
        }
        return r.For(BpfCommand.ProgDetach);
    }

    /// <summary>
    /// BPF_PROG_QUERY of BPF_TCX_INGRESS (bpf_mprog_query): the revision (1 when empty), the number of programs, and
    /// as many program and link ids (0 for a program without link) as the spans hold. Attach flags are always 0.
    /// </summary>
    /// <returns>ENODEV unknown device; ENOSPC <paramref name="progIds"/> is non-empty but shorter than the count (it is
    /// filled as far as it goes; <paramref name="count"/> is still the full count).</returns>
    public BpfResult ProgQuery(uint ifindex, Span<uint> progIds, Span<uint> linkIds, out uint count, out ulong revision)
    {
        count = 0;
        revision = 1;
        var r = ResolveDevice(ifindex, out var dev);
        if (!r.IsOk)
        {
            return r.For(BpfCommand.ProgQuery);
        }
        var bundle = dev.TcxIngress.Bundle;
        if (bundle is null)
        {
            return BpfResult.Ok;
        }
        revision = bundle.Revision;
        count = (uint)bundle.Count;
        if (progIds.IsEmpty)
        {
            return BpfResult.Ok;
        }
        int n = Math.Min(progIds.Length, bundle.Count);
        for (int i = 0; i < n; i++)
        {
            var t = bundle[i];
            progIds[i] = t.Prog!.Id;
            if (i < linkIds.Length)
            {
                linkIds[i] = t.Link?.Id ?? 0;
            }
        }
        return n < bundle.Count
            ? BpfResult.Fail(Errno.ENOSPC, $"{bundle.Count} programs attached, room for {progIds.Length}").For(BpfCommand.ProgQuery)
            : BpfResult.Ok;
    }

    /// <summary>
    /// BPF_LINK_CREATE with attach type BPF_TCX_INGRESS (tcx_link_attach): a tcx link that owns its entry in the
    /// bundle, placed by the same rules as <see cref="ProgAttach"/>.
    /// </summary>
    /// <returns>EBADF/EINVAL bad or non-SCHED_CLS program fd; ENODEV unknown device; then the errors of
    /// bpf_mprog_attach as for <see cref="ProgAttach"/>. link_create does not mask the flags: a flag outside
    /// BPF_F_ATTACH_MASK_MPROG is EINVAL only when neither BEFORE nor AFTER is set, and BPF_F_REPLACE (there is no old
    /// program: a link's entry is replaced with <see cref="LinkUpdate(int, int, int)"/>) is ENOENT from
    /// bpf_mprog_pos_exact.</returns>
    public BpfResult TcxLinkCreate(int progFd, uint ifindex, MprogFlags flags, uint relativeFdOrId, ulong expectedRevision, out int linkFd)
    {
        linkFd = -1;
        // link_create has no BPF_F_ATTACH_MASK_MPROG check: the flags go to bpf_mprog_attach as they are.
        var r = ResolveSchedCls(progFd, out var prog);
        if (r.IsOk)
        {
            r = ResolveDevice(ifindex, out var dev);
            if (r.IsOk)
            {
                prog.Inc();
                var link = new TcxLink(this, dev, prog);
                r = TcxAttach(dev, new MprogTuple(prog, link), null, flags, relativeFdOrId, expectedRevision);
                if (r.IsOk)
                {
                    linkFd = Caller.Install(link);
                }
                else
                {
                    // bpf_link_cleanup: the link never attached.
                    link.Device = null;
                    link.Put();
                }
            }
        }
        return r.For(BpfCommand.LinkCreate);
    }

    private static BpfResult CheckMprogFlags(MprogFlags flags) =>
        (flags & ~MprogFlags.Mask) == 0 ? BpfResult.Ok : BpfResult.Fail(Errno.EINVAL, "flags outside BPF_F_ATTACH_MASK_MPROG");

    private BpfResult ResolveSchedCls(int fd, out BpfProgram prog)
    {
        // bpf_prog_get_type(fd, BPF_PROG_TYPE_SCHED_CLS).
        var r = ResolveProgram(fd, out prog);
        if (r.IsOk && prog.Type != ProgramType.SchedCls)
        {
            return BpfResult.Fail(Errno.EINVAL, $"program {prog.Name} (id {prog.Id}) is {BpfProgram.TypeName(prog.Type)}, not sched_cls");
        }
        return r;
    }

    /// <summary>bpf_mprog_tuple_relative: the relative program or link, by fd or id; nothing for fd 0 without BPF_F_ID.</summary>
    private BpfResult ResolveRelative(uint idOrFd, MprogFlags flags, ProgramType type, out MprogTuple tuple)
    {
        tuple = default;
        bool byId = (flags & MprogFlags.Id) != 0;
        if ((flags & MprogFlags.Link) != 0)
        {
            BpfObject? obj;
            if (byId)
            {
                obj = Objects.TryGet(BpfObjectKind.Link, idOrFd, out var o) && !o.IsDead ? o : null;
                if (obj is null)
                {
                    return BpfResult.Fail(Errno.ENOENT, $"no link with id {idOrFd}");
                }
            }
            else if (idOrFd == 0)
            {
                return BpfResult.Fail(Errno.EINVAL, "BPF_F_LINK without a relative link");
            }
            else
            {
                obj = Caller.Get((int)idOrFd);
                if (obj is null)
                {
                    return BpfResult.Fail(Errno.EBADF, $"relative fd {idOrFd} is not open");
                }
            }
            var linkProg = obj switch
            {
                TcxLink t => t.Program,
                XdpLink x => x.Program,
                _ => null,
            };
            if (obj is not BpfLink link || linkProg is null || (type != ProgramType.Unspec && linkProg.Type != type))
            {
                return BpfResult.Fail(Errno.EINVAL, $"relative object {idOrFd} is not a link of a {BpfProgram.TypeName(type)} program");
            }
            tuple = new MprogTuple(linkProg, link);
            return BpfResult.Ok;
        }
        if (!byId && idOrFd == 0)
        {
            return BpfResult.Ok;
        }
        BpfProgram prog;
        if (byId)
        {
            if (!Objects.TryGet(BpfObjectKind.Program, idOrFd, out var o) || o.IsDead)
            {
                return BpfResult.Fail(Errno.ENOENT, $"no program with id {idOrFd}");
            }
            prog = (BpfProgram)o;
        }
        else
        {
            var r = ResolveProgram((int)idOrFd, out prog);
            if (!r.IsOk)
            {
                return r;
            }
        }
        if (type != ProgramType.Unspec && prog.Type != type)
        {
            return BpfResult.Fail(Errno.EINVAL, $"relative program {prog.Name} (id {prog.Id}) is {BpfProgram.TypeName(prog.Type)}");
        }
        tuple = new MprogTuple(prog, null);
        return BpfResult.Ok;
    }

    /// <summary>tcx_prog_attach / tcx_link_prog_attach around bpf_mprog_attach; references are the caller's.</summary>
    private BpfResult TcxAttach(NetDevice dev, MprogTuple next, BpfProgram? old, MprogFlags flags, uint relativeFdOrId, ulong revision)
    {
        var hook = dev.TcxIngress;
        var bundle = hook.FetchOrCreate(out bool created);
        var r = MprogAttach(bundle, next, old, flags, relativeFdOrId, revision, out bool published);
        if (!r.IsOk)
        {
            if (created)
            {
                hook.FreeIfEmpty();
            }
            return r;
        }
        if (published)
        {
            SyncTcx();
        }
        return BpfResult.Ok;
    }

    private BpfResult MprogAttach(MprogBundle bundle, MprogTuple next, BpfProgram? old, MprogFlags flags, uint relativeFdOrId, ulong revision, out bool published)
    {
        published = false;
        if (revision != 0 && revision != bundle.Revision)
        {
            return BpfResult.Fail(Errno.ESTALE, $"expected revision {revision}, the bundle is at {bundle.Revision}");
        }
        if (bundle.Contains(next.Prog!))
        {
            return BpfResult.Fail(Errno.EEXIST, $"program {next.Prog!.Name} (id {next.Prog.Id}) is already attached");
        }
        var r = ResolveRelative(relativeFdOrId, flags & ~MprogFlags.Replace, next.Prog!.Type, out var relative);
        if (!r.IsOk)
        {
            return r;
        }
        int err = bundle.Attach(next, old, flags, relative, out published);
        return err == 0 ? BpfResult.Ok : MprogError(err, "attach");
    }

    /// <summary>tcx_prog_detach / tcx_link_release around bpf_mprog_detach.</summary>
    private BpfResult TcxDetach(NetDevice dev, MprogTuple target, MprogFlags flags, uint relativeFdOrId, ulong revision, out MprogTuple removed)
    {
        removed = default;
        var hook = dev.TcxIngress;
        if (hook.Bundle is not { } bundle)
        {
            return BpfResult.Fail(Errno.ENOENT, "no tcx programs on this device");
        }
        if ((flags & MprogFlags.Replace) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "BPF_F_REPLACE is not a detach flag");
        }
        if (revision != 0 && revision != bundle.Revision)
        {
            return BpfResult.Fail(Errno.ESTALE, $"expected revision {revision}, the bundle is at {bundle.Revision}");
        }
        if (bundle.Count == 0)
        {
            return BpfResult.Fail(Errno.ENOENT, "no tcx programs on this device");
        }
        var r = ResolveRelative(relativeFdOrId, flags, target.Prog?.Type ?? ProgramType.Unspec, out var relative);
        if (!r.IsOk)
        {
            return r;
        }
        int err = bundle.Detach(target, flags, relative, out removed);
        if (err != 0)
        {
            return MprogError(err, "detach");
        }
        hook.FreeIfEmpty();
        SyncTcx();
        return BpfResult.Ok;
    }

    private static BpfResult MprogError(int err, string op) => (Errno)(-err) switch
    {
        Errno.ENOENT => BpfResult.Fail(Errno.ENOENT, $"mprog {op}: the program or relative object is not in the bundle"),
        Errno.EBUSY => BpfResult.Fail(Errno.EBUSY, $"mprog {op}: the entry is owned differently (link vs. program)"),
        Errno.ERANGE => BpfResult.Fail(Errno.ERANGE, $"mprog {op}: positions disagree or the bundle is full ({MprogBundle.MaxPrograms} programs)"),
        Errno.EINVAL => BpfResult.Fail(Errno.EINVAL, $"mprog {op}: a relative object needs BPF_F_BEFORE or BPF_F_AFTER"),
        var e => BpfResult.Fail(e, $"mprog {op} failed"),
    };

    /// <summary>tcx_entry_sync: synchronize_rcu after publishing a new program array.</summary>
    private void SyncTcx()
    {
        if (Options.TcxSynchronizeRcu)
        {
            Rcu.Synchronize();
        }
    }

    /// <summary>tcx_link_release: the link's entry leaves the bundle; the link keeps its program until freed.</summary>
    internal void DetachTcxLink(TcxLink link)
    {
        var dev = link.Device;
        if (dev is null)
        {
            return;
        }
        var r = TcxDetach(dev, new MprogTuple(link.Program, link), MprogFlags.None, 0, 0, out _);
        System.Diagnostics.Debug.Assert(r.IsOk, r.Reason);
        link.Device = null;
    }

    /// <summary>tcx_link_update: replace the link's program in place (BPF_F_REPLACE | BPF_F_ID of the current one).</summary>
    private BpfResult UpdateTcxLink(TcxLink link, BpfProgram next, BpfProgram? expected)
    {
        if (link.Device is not { } dev)
        {
            return BpfResult.Fail(Errno.ENOLINK, "link is detached");
        }
        if (expected is not null && !ReferenceEquals(link.Program, expected))
        {
            return BpfResult.Fail(Errno.EPERM, "BPF_F_REPLACE: the link does not hold old_prog_fd's program");
        }
        var old = link.Program;
        if (ReferenceEquals(old, next))
        {
            return BpfResult.Ok;
        }
        if (dev.TcxIngress.Bundle is not { } bundle)
        {
            return BpfResult.Fail(Errno.ENOENT, "no tcx bundle on the link's device");
        }
        var r = MprogAttach(bundle, new MprogTuple(next, link), old, MprogFlags.Replace | MprogFlags.Id, old.Id, 0, out _);
        if (!r.IsOk)
        {
            return r;
        }
        next.Inc();
        link.Program = next;
        old.Put();
        return BpfResult.Ok;
    }
}
