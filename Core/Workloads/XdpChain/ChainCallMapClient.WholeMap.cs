using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.Net;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The whole-map protocol: copy the chain into a new map with the change made, swap it in atomically.</summary>
internal sealed partial class ChainCallMapClient
{
    /// <summary>Adds <paramref name="add"/> (or nothing, -1) and removes <paramref name="remove"/> (or nothing, -1)
    /// by building a new map and attaching it with XDP_FLAGS_REPLACE expecting the map the chain was read from.</summary>
    private IEnumerable<SyscallKind> WholeMap(ComponentActor actor, int add, int remove)
    {
        if (add >= 0)
        {
            foreach (var step in Load(actor, add))
            {
                yield return step;
            }
            if (actor.Failure is not null)
            {
                yield break;
            }
        }
        var chain = new List<Link>();
        while (true)
        {
            yield return SyscallKind.BpffsOp; // bpf_obj_get of the pinned map: a fd of our own
            Bpf.ObjGetInfoByFd(Context.Pins[MapPin], out BpfMapInfo pinned).ThrowIfFailed();
            Bpf.MapGetFdById(pinned.Id, out int current).ThrowIfFailed();
            foreach (var step in Walk(current, chain))
            {
                yield return step;
            }
            // Programs gone since (their component stopped) are left out, as is this component's old version.
            chain.RemoveAll(l => l.Component == actor.Index || l.Component < 0);
            if (add >= 0)
            {
                chain.Insert(InsertionIndex(chain, actor.Priority, actor.Index), new Link(Ids[actor.Index][add], actor.Index, add));
            }
            yield return SyscallKind.MapCreate;
            int map = CreateMap();
            var fds = new List<int>();
            for (int i = 0; i < chain.Count; i++)
            {
                int fd;
                if (chain[i].Component == actor.Index)
                {
                    fd = Fds[actor.Index][add];
                }
                else
                {
                    yield return SyscallKind.ProgInfo;
                    if (!Bpf.ProgGetFdById(chain[i].Id, out fd).IsOk)
                    {
                        break; // gone between the walk and now: the attach below fails or a later change fixes it
                    }
                    fds.Add(fd);
                }
                yield return SyscallKind.MapUpdate;
                Update(map, i == 0 ? ChainCallKey.Start : new ChainCallKey(chain[i - 1].Id, Pass), fd, UpdateFlags.Any);
            }
            foreach (int fd in fds)
            {
                Bpf.Close(fd);
            }
            yield return SyscallKind.XdpAttach;
            var r = Bpf.XdpAttachChainMap(Ifindex, map, XdpFlags.Replace, current);
            if (r.IsOk)
            {
                yield return SyscallKind.BpffsOp; // re-pin the new map in the old one's place
                int oldPin = Context.Pins[MapPin];
                Context.Pins[MapPin] = map;
                _mapFd = map;
                yield return SyscallKind.Close;
                Bpf.Close(oldPin);
                Bpf.Close(current);
                break;
            }
            yield return SyscallKind.Close;
            Bpf.Close(map);
            Bpf.Close(current);
            if (!RetryOrFail(actor, r, retryable: r.Errno == Errno.EEXIST))
            {
                yield break;
            }
        }
        if (remove >= 0)
        {
            foreach (var step in Unload(actor, remove))
            {
                yield return step;
            }
        }
    }
}
