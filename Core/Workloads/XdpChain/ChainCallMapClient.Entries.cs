using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The entry-by-entry protocol: a linked-list splice with an expected old value on the publishing update.</summary>
internal sealed partial class ChainCallMapClient
{
    protected override IEnumerable<SyscallKind> Start(ComponentActor actor, int version) =>
        Scenario.ChainMapWholeReplace ? WholeMap(actor, version, -1) : SpliceIn(actor, version, -1);

    protected override IEnumerable<SyscallKind> Replace(ComponentActor actor, int from, int to) =>
        Scenario.ChainMapWholeReplace ? WholeMap(actor, to, from) : SpliceIn(actor, to, from);

    protected override IEnumerable<SyscallKind> Stop(ComponentActor actor, int version) =>
        Scenario.ChainMapWholeReplace ? WholeMap(actor, -1, version) : Unlink(actor, version);

    /// <summary>Start (<paramref name="from"/> -1) or replace: point the new program at its successor, then publish it
    /// from its predecessor's entry expecting the successor (start) or the old version (replace) there.</summary>
    private IEnumerable<SyscallKind> SpliceIn(ComponentActor actor, int version, int from)
    {
        foreach (var step in Load(actor, version))
        {
            yield return step;
        }
        if (actor.Failure is not null)
        {
            yield break;
        }
        var chain = new List<Link>();
        int fd = Fds[actor.Index][version];
        uint id = Ids[actor.Index][version];
        while (true)
        {
            foreach (var step in Walk(_mapFd, chain))
            {
                yield return step;
            }
            int at;
            uint expectedId;
            if (from < 0)
            {
                at = InsertionIndex(chain, actor.Priority, actor.Index);
                expectedId = at < chain.Count ? chain[at].Id : 0;
            }
            else
            {
                at = chain.FindIndex(l => l.Id == Ids[actor.Index][from]);
                if (at < 0)
                {
                    Fail(actor, BpfResult.Fail(Errno.ENOENT, "the version to replace is no longer reachable in the chain"));
                    yield break;
                }
                expectedId = chain[at].Id;
            }
            int next = from < 0 ? at : at + 1;
            uint successor = next < chain.Count ? chain[next].Id : 0;
            int succFd = -1;
            if (successor != 0)
            {
                yield return SyscallKind.ProgInfo;
                if (!Bpf.ProgGetFdById(successor, out succFd).IsOk)
                {
                    if (!Retry(actor, BpfResult.Fail(Errno.ENOENT, "the successor program is gone")))
                    {
                        yield break;
                    }
                    continue;
                }
            }
            // The new program's own entry first, so that once published the rest of the chain follows it.
            var own = new ChainCallKey(id, Pass);
            if (succFd >= 0)
            {
                yield return SyscallKind.MapUpdate;
                Update(_mapFd, own, succFd, UpdateFlags.Any);
            }
            else
            {
                yield return SyscallKind.MapDelete;
                Delete(own, -1);
            }
            yield return SyscallKind.MapUpdate;
            var r = Publish(KeyAfter(chain, at), fd, from < 0 ? succFd : Fds[actor.Index][from]);
            if (succFd >= 0)
            {
                Bpf.Close(succFd);
            }
            if (r.IsOk)
            {
                break;
            }
            if (!RetryOrFail(actor, r, retryable: r.Errno is Errno.EAGAIN or Errno.EEXIST or Errno.ENOENT))
            {
                yield break;
            }
        }
        if (from >= 0)
        {
            foreach (var step in DropEntry(Ids[actor.Index][from]))
            {
                yield return step;
            }
            foreach (var step in Unload(actor, from))
            {
                yield return step;
            }
        }
    }

    /// <summary>Stop: point the predecessor's entry at the successor expecting this program there (or, when this program
    /// was last, delete it expecting this program), then drop this program's own entry.</summary>
    private IEnumerable<SyscallKind> Unlink(ComponentActor actor, int version)
    {
        var chain = new List<Link>();
        uint id = Ids[actor.Index][version];
        while (true)
        {
            foreach (var step in Walk(_mapFd, chain))
            {
                yield return step;
            }
            int at = chain.FindIndex(l => l.Id == id);
            if (at < 0)
            {
                break; // someone else's change already cut it out
            }
            uint successor = at + 1 < chain.Count ? chain[at + 1].Id : 0;
            BpfResult r;
            if (successor == 0)
            {
                yield return SyscallKind.MapDelete;
                r = Delete(KeyAfter(chain, at), Fds[actor.Index][version]);
            }
            else
            {
                yield return SyscallKind.ProgInfo;
                if (!Bpf.ProgGetFdById(successor, out int succFd).IsOk)
                {
                    if (!Retry(actor, BpfResult.Fail(Errno.ENOENT, "the successor program is gone")))
                    {
                        yield break;
                    }
                    continue;
                }
                yield return SyscallKind.MapUpdate;
                r = Publish(KeyAfter(chain, at), succFd, Fds[actor.Index][version]);
                Bpf.Close(succFd);
            }
            if (r.IsOk)
            {
                break;
            }
            if (!RetryOrFail(actor, r, retryable: r.Errno is Errno.EAGAIN or Errno.EEXIST or Errno.ENOENT))
            {
                yield break;
            }
        }
        foreach (var step in DropEntry(id))
        {
            yield return step;
        }
        foreach (var step in Unload(actor, version))
        {
            yield return step;
        }
    }

    private IEnumerable<SyscallKind> DropEntry(uint id)
    {
        yield return SyscallKind.MapDelete;
        Delete(new ChainCallKey(id, Pass), -1);
    }
}
