using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// A component's user space on tcx (bpf_mprog): query the bundle for its revision and programs, attach BEFORE the
/// first attached component of higher priority (or append) with that revision expected, and on ESTALE query again;
/// replace in place with BPF_F_REPLACE; stop with a detach that expects the revision too. With
/// <see cref="XdpChainScenario.MprogLinks"/> the entry is owned by a tcx link instead: BPF_LINK_CREATE places it by
/// the same rules (and the same revision check), BPF_LINK_UPDATE replaces the link's program in place
/// (tcx_link_update: no revision, nothing to retry), BPF_LINK_DETACH removes it (tcx_link_release).
/// </summary>
/// <remarks>
/// The kernel's rules are in kernel/bpf/mprog.c (bpf_mprog_attach, bpf_mprog_detach) and kernel/bpf/tcx.c; the
/// user-space loop is what libbpf's bpf_prog_attach_opts users write (selftests' tc_opts.c). Program names of the
/// other components are learned once per id with BPF_OBJ_GET_INFO_BY_FD and cached, as ids are never reused.
/// </remarks>
internal sealed class MprogClient(ChainRunContext context) : ChainClient(context)
{
    private const int MaxQuery = 64;
    private readonly Dictionary<uint, int>[] _known = context.Actors.Select(_ => new Dictionary<uint, int>()).ToArray();
    private readonly int[] _linkFds = context.Actors.Select(_ => -1).ToArray();

    private bool Links => Context.Scenario.MprogLinks;

    protected override IEnumerable<SyscallKind> Start(ComponentActor actor, int version)
    {
        foreach (var step in Load(actor, version))
        {
            yield return step;
        }
        if (actor.Failure is not null)
        {
            yield break;
        }
        while (true)
        {
            var snapshot = new Snapshot();
            foreach (var step in Query(actor, snapshot))
            {
                yield return step;
            }
            if (actor.Failure is not null)
            {
                yield break;
            }
            // Before the first attached program of a component that must run after this one; else at the end.
            uint before = 0;
            for (int i = 0; i < snapshot.Count; i++)
            {
                int c = snapshot.Components[i];
                if (c >= 0 && c != actor.Index && Context.Actors[c].Priority > actor.Priority)
                {
                    before = snapshot.Ids[i];
                    break;
                }
            }
            yield return SyscallKind.ProgAttach;
            var flags = before != 0 ? MprogFlags.Before | MprogFlags.Id : MprogFlags.After;
            var r = Links
                ? Bpf.TcxLinkCreate(Fds[actor.Index][version], Ifindex, flags, before, snapshot.Revision, out _linkFds[actor.Index])
                : Bpf.ProgAttach(Ifindex, Fds[actor.Index][version], flags, before, snapshot.Revision);
            if (r.IsOk)
            {
                yield break;
            }
            // ESTALE: someone changed the bundle since the query; ENOENT: the program we placed ourselves against left.
            if (!RetryOrFail(actor, r, retryable: r.Errno is Errno.ESTALE or Errno.ENOENT))
            {
                yield break;
            }
        }
    }

    protected override IEnumerable<SyscallKind> Replace(ComponentActor actor, int from, int to)
    {
        foreach (var step in Load(actor, to))
        {
            yield return step;
        }
        if (actor.Failure is not null)
        {
            yield break;
        }
        if (Links)
        {
            yield return SyscallKind.ProgAttach;
            var r = Bpf.LinkUpdate(_linkFds[actor.Index], Fds[actor.Index][to], Fds[actor.Index][from]);
            if (!r.IsOk)
            {
                Fail(actor, r);
                yield break;
            }
        }
        while (!Links)
        {
            var snapshot = new Snapshot();
            foreach (var step in Query(actor, snapshot))
            {
                yield return step;
            }
            if (actor.Failure is not null)
            {
                yield break;
            }
            yield return SyscallKind.ProgAttach;
            var r = Bpf.ProgAttach(Ifindex, Fds[actor.Index][to], MprogFlags.Replace, 0, snapshot.Revision, Fds[actor.Index][from]);
            if (r.IsOk)
            {
                break;
            }
            if (!RetryOrFail(actor, r, retryable: r.Errno == Errno.ESTALE))
            {
                yield break;
            }
        }
        foreach (var step in Unload(actor, from))
        {
            yield return step;
        }
    }

    protected override IEnumerable<SyscallKind> Stop(ComponentActor actor, int version)
    {
        if (Links)
        {
            yield return SyscallKind.ProgAttach;
            var r = Bpf.LinkDetach(_linkFds[actor.Index]);
            if (!r.IsOk)
            {
                Fail(actor, r);
                yield break;
            }
            yield return SyscallKind.Close;
            Bpf.Close(_linkFds[actor.Index]);
            _linkFds[actor.Index] = -1;
        }
        while (!Links)
        {
            yield return SyscallKind.ProgQuery;
            var r = Bpf.ProgQuery(Ifindex, Span<uint>.Empty, Span<uint>.Empty, out _, out ulong revision);
            if (!r.IsOk && r.Errno != Errno.ENOSPC)
            {
                Fail(actor, r);
                yield break;
            }
            yield return SyscallKind.ProgAttach;
            r = Bpf.ProgDetach(Ifindex, Fds[actor.Index][version], MprogFlags.None, 0, revision);
            if (r.IsOk)
            {
                break;
            }
            if (!RetryOrFail(actor, r, retryable: r.Errno == Errno.ESTALE))
            {
                yield break;
            }
        }
        foreach (var step in Unload(actor, version))
        {
            yield return step;
        }
    }

    private IEnumerable<SyscallKind> Load(ComponentActor actor, int version) => Load(actor, version, ProgramType.SchedCls, ChainBodies.TcxNext);

    /// <summary>BPF_PROG_QUERY, then the name of every program not seen before (BPF_OBJ_GET_INFO_BY_FD by id).</summary>
    private IEnumerable<SyscallKind> Query(ComponentActor actor, Snapshot snapshot)
    {
        yield return SyscallKind.ProgQuery;
        var ids = new uint[MaxQuery];
        var links = new uint[MaxQuery];
        var r = Bpf.ProgQuery(Ifindex, ids, links, out uint count, out ulong revision);
        if (!r.IsOk)
        {
            Fail(actor, r);
            yield break;
        }
        snapshot.Revision = revision;
        snapshot.Count = (int)count;
        snapshot.Ids = ids;
        snapshot.Components = new int[count];
        var known = _known[actor.Index];
        for (int i = 0; i < count; i++)
        {
            if (!known.TryGetValue(ids[i], out int component))
            {
                yield return SyscallKind.ProgInfo;
                component = ComponentOfId(ids[i]);
                known[ids[i]] = component;
            }
            snapshot.Components[i] = component;
        }
    }

    /// <summary>The component a program id belongs to by its name, or -1 (gone, or not a component's).</summary>
    private int ComponentOfId(uint id)
    {
        if (!Bpf.ProgGetFdById(id, out int fd).IsOk)
        {
            return -1;
        }
        Bpf.ObjGetInfoByFd(fd, out BpfProgInfo info);
        Bpf.Close(fd);
        return Context.Identities.TryGetByName(info.Name, out int component, out _) ? component : -1;
    }

    private sealed class Snapshot
    {
        public ulong Revision;
        public int Count;
        public uint[] Ids = [];
        public int[] Components = [];
    }
}
