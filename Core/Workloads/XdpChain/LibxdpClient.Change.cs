using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.MultiProg.LibXdp;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The attach/detach retry loop: one new dispatcher per change.</summary>
internal sealed partial class LibxdpClient
{
    /// <summary>Adds version <paramref name="add"/> and/or removes version <paramref name="remove"/> (-1: none).</summary>
    private IEnumerable<SyscallKind> Change(ComponentActor actor, int add, int remove)
    {
        while (true)
        {
            var attempt = new Attempt();
            foreach (var step in Query(actor, attempt))
            {
                yield return step;
            }
            if (attempt.Error.IsOk)
            {
                foreach (var step in BuildAndSwap(actor, add, remove, attempt))
                {
                    yield return step;
                }
            }
            foreach (int fd in attempt.Existing.Select(e => e.Fd))
            {
                Bpf.Close(fd);
            }
            if (attempt.OldFd >= 0)
            {
                Bpf.Close(attempt.OldFd);
            }
            if (attempt.Error.IsOk)
            {
                break;
            }
            var r = attempt.Error;
            if (!RetryOrFail(actor, r, retryable: r.Errno is Errno.EEXIST or Errno.EBUSY or Errno.ENOENT))
            {
                yield break;
            }
            // usleep(1 << retry_counter): exponential back-off in microseconds.
            actor.SleepFor = SimTime.FromMicroseconds(1L << Math.Min(20, actor.Retries - actor.RetriesAtActionStart));
            yield return SyscallKind.Sleep;
        }
        if (remove >= 0)
        {
            yield return SyscallKind.Close;
            Bpf.Close(_ext[actor.Index][remove]);
            _ext[actor.Index][remove] = -1;
        }
    }

    /// <summary>xdp_multiprog__get_from_ifindex: the attached program, and if it is a dispatcher its components.</summary>
    private IEnumerable<SyscallKind> Query(ComponentActor actor, Attempt attempt)
    {
        yield return SyscallKind.XdpQuery;
        var r = Bpf.XdpQuery(Ifindex, out uint id);
        if (!r.IsOk)
        {
            attempt.Error = r;
            yield break;
        }
        if (id == 0)
        {
            yield break;
        }
        yield return SyscallKind.ProgInfo;
        r = Bpf.ProgGetFdById(id, out int fd);
        if (!r.IsOk)
        {
            attempt.Error = r; // ENOENT: it went away between the query and now
            yield break;
        }
        attempt.OldFd = fd;
        attempt.OldId = id;
        foreach (var step in ReadComponents(actor, fd, id, attempt.Existing, attempt))
        {
            yield return step;
        }
    }

    private IEnumerable<SyscallKind> BuildAndSwap(ComponentActor actor, int add, int remove, Attempt attempt)
    {
        var list = attempt.Existing.Where(e => e.Component != actor.Index).ToList();
        if (add < 0 && list.Count == attempt.Existing.Count)
        {
            yield break; // nothing of this component is attached: nothing to stop
        }
        if (add >= 0)
        {
            int ext = _ext[actor.Index][add];
            list.Add(new Entry(actor.Index, add, actor.Spec.ProgramName(add), (uint)actor.Priority, DispatcherConfigs.DefaultChainActions,
                ext, ext >= 0, ext >= 0 ? IdOf(ext) : 0));
        }
        if (list.Count > Slots)
        {
            attempt.Error = BpfResult.Fail(Errno.E2BIG, $"{list.Count} programs do not fit the dispatcher's {Slots} slots");
            yield break;
        }
        list.Sort(Compare);
        if (list.Count == 0)
        {
            yield return SyscallKind.XdpAttach;
            attempt.Error = Bpf.XdpAttach(Ifindex, -1, XdpFlags.Replace, attempt.OldFd);
            if (attempt.Error.IsOk)
            {
                foreach (var step in Unpin(actor, attempt.OldId, attempt.Existing.Count))
                {
                    yield return step;
                }
            }
            yield break;
        }
        yield return SyscallKind.DispatcherLoad;
        var r = Bpf.LoadXdpDispatcher(DispatcherConfigs.Build(list.Select(e => (e.Priority, e.ChainActions)).ToList()), out int dispatcher);
        if (!r.IsOk)
        {
            attempt.Error = r;
            yield break;
        }
        attempt.NewFd = dispatcher;
        attempt.NewId = IdOf(dispatcher);
        var progFds = new int[list.Count];
        for (int i = 0; i < list.Count && attempt.Error.IsOk; i++)
        {
            var e = list[i];
            string func = $"prog{i}";
            if (e.Component == actor.Index && !e.Loaded)
            {
                yield return SyscallKind.ExtProgLoad;
                r = LoadRegistered(actor, add, new ProgramSpec
                {
                    Type = ProgramType.Ext,
                    Name = e.Name,
                    Body = (PacketProgramFunc)ChainBodies.XdpPass,
                    AttachProgFd = dispatcher,
                    AttachFunc = func,
                }, out int ext);
                if (!r.IsOk)
                {
                    attempt.Error = r;
                    break;
                }
                _ext[actor.Index][add] = ext;
                e = e with { Fd = ext, Loaded = true };
            }
            yield return SyscallKind.FreplaceLink;
            r = Bpf.FreplaceLinkCreate(e.Fd, dispatcher, func, out int link);
            if (!r.IsOk)
            {
                attempt.Error = r;
                break;
            }
            attempt.Links.Add(link);
            progFds[i] = e.Fd;
        }
        if (attempt.Error.IsOk)
        {
            foreach (var step in Pin(actor, attempt, progFds))
            {
                yield return step;
            }
            yield return SyscallKind.XdpAttach;
            attempt.Error = attempt.OldFd >= 0
                ? Bpf.XdpAttach(Ifindex, dispatcher, XdpFlags.Replace, attempt.OldFd)
                : Bpf.XdpAttach(Ifindex, dispatcher, XdpFlags.UpdateIfNoExist);
        }
        if (attempt.Error.IsOk)
        {
            if (attempt.OldFd >= 0)
            {
                foreach (var step in Unpin(actor, attempt.OldId, attempt.Existing.Count))
                {
                    yield return step;
                }
            }
        }
        else if (attempt.Pinned)
        {
            // Pinned but the swap lost the race: take the new pins down again.
            foreach (var step in Unpin(actor, attempt.NewId, list.Count))
            {
                yield return step;
            }
        }
        // The process's own fd of the new dispatcher (the hook holds it now, or nothing does), and the links if no pin
        // took them over.
        yield return SyscallKind.Close;
        if (!attempt.Pinned)
        {
            foreach (int link in attempt.Links)
            {
                Bpf.Close(link);
            }
        }
        Bpf.Close(dispatcher);
    }

    /// <summary>xdp_multiprog__pin: progN-link and progN-prog under dispatch-IFINDEX-ID, under the flock.</summary>
    private IEnumerable<SyscallKind> Pin(ComponentActor actor, Attempt attempt, int[] progFds)
    {
        foreach (var step in Lock(actor))
        {
            yield return step;
        }
        string dir = Dir(attempt.NewId);
        yield return SyscallKind.BpffsOp; // mkdir
        for (int i = 0; i < attempt.Links.Count; i++)
        {
            yield return SyscallKind.BpffsOp;
            Context.Pins[$"{dir}/prog{i}-link"] = attempt.Links[i]; // the pin owns the link from here on
            yield return SyscallKind.BpffsOp;
            Context.Pins[$"{dir}/prog{i}-prog"] = Dup(progFds[i]);
        }
        attempt.Pinned = true;
        foreach (var step in Unlock(actor))
        {
            yield return step;
        }
    }

    /// <summary>xdp_multiprog__unpin: unlink the pins (dropping their references) and the directory, under the flock.</summary>
    private IEnumerable<SyscallKind> Unpin(ComponentActor actor, uint dispatcherId, int count)
    {
        foreach (var step in Lock(actor))
        {
            yield return step;
        }
        string dir = Dir(dispatcherId);
        for (int i = 0; i < count; i++)
        {
            foreach (string what in (string[])["link", "prog"])
            {
                yield return SyscallKind.BpffsOp;
                if (Context.Pins.Remove($"{dir}/prog{i}-{what}", out int fd))
                {
                    Bpf.Close(fd);
                }
            }
        }
        yield return SyscallKind.BpffsOp; // rmdir
        foreach (var step in Unlock(actor))
        {
            yield return step;
        }
    }

    /// <summary>A second reference to the program behind <paramref name="fd"/>, for a pin to own.</summary>
    private int Dup(int fd)
    {
        Bpf.ProgGetFdById(IdOf(fd), out int copy).ThrowIfFailed();
        return copy;
    }

    /// <summary>libxdp's cmp_xdp_programs, the kernel side's <see cref="XdpProgramOrder"/> (program ids stand in for
    /// load times, which they follow); ties left after it by id.</summary>
    private static int Compare(Entry a, Entry b)
    {
        int c = XdpProgramOrder.Instance.Compare(Key(a), Key(b));
        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }

    private static XdpProgramSortKey Key(Entry e) => new((int)e.Priority, e.Name, e.Loaded, 0, 0, e.Id);
}
