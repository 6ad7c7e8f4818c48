using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>BPF_F_REPLACE for BPF_LINK_UPDATE: the update applies only if the link holds <c>old_map_fd</c>'s map.</summary>
    public const uint LinkUpdateReplace = 1u << 2;

    private readonly List<StructOpsType> _structOpsTypes = [];

    /// <summary>The struct_ops types subsystems have registered, in registration order.</summary>
    public IReadOnlyList<StructOpsType> StructOpsTypes => _structOpsTypes;

    /// <summary>register_bpf_struct_ops: makes a subsystem's type available to programs and maps.</summary>
    /// <exception cref="InvalidOperationException">A type of that name is already registered.</exception>
    public void RegisterStructOpsType(StructOpsType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (FindStructOpsType(type.Name) is not null)
        {
            throw new InvalidOperationException($"struct_ops type {type.Name} is already registered");
        }
        _structOpsTypes.Add(type);
    }

    /// <summary>The registered type called <paramref name="name"/>, or null.</summary>
    public StructOpsType? FindStructOpsType(string name) => _structOpsTypes.FirstOrDefault(t => t.Name == name);

    private readonly List<StructOpsMap> _structOpsHistory = [];

    /// <summary>Every struct_ops map created in this system, freed or not, in creation order (for run summaries).</summary>
    public IReadOnlyList<StructOpsMap> StructOpsHistory => _structOpsHistory;

    /// <summary>Live struct_ops maps in id order (bpftool struct_ops list).</summary>
    public IEnumerable<StructOpsMap> StructOpsMaps => Objects.All(BpfObjectKind.Map).OfType<StructOpsMap>();

    private BpfResult TryBuildStructOpsMap(MapSpec spec, out BpfMap map)
    {
        map = null!;
        var type = spec.StructOpsType is null ? null : FindStructOpsType(spec.StructOpsType);
        var r = StructOpsMap.CheckSpec(spec, type);
        if (!r.IsOk)
        {
            return r;
        }
        if (!IsValidObjectName(spec.Name))
        {
            return BpfResult.Fail(Errno.EINVAL, $"map name '{spec.Name}' must be at most 15 characters of [A-Za-z0-9_.]");
        }
        var created = new StructOpsMap(this, spec, type!);
        _structOpsHistory.Add(created);
        map = created;
        return BpfResult.Ok;
    }

    /// <summary>
    /// BPF_LINK_CREATE with attach type BPF_STRUCT_OPS: registers a READY link-mode map through a new link, which
    /// keeps a reference on the map. The map stays READY (as in the kernel) and can be linked again once detached.
    /// </summary>
    /// <returns>EINVAL if the map is not a READY BPF_F_LINK struct_ops map; the type's Register error (e.g. EEXIST
    /// for a name already registered, which is what linking an already linked TCP map gives).</returns>
    public BpfResult LinkCreate(int mapFd, out int linkFd)
    {
        linkFd = -1;
        var r = ResolveMap(mapFd, out var m);
        if (r.IsOk && !IsReadyLinkMap(m))
        {
            r = BpfResult.Fail(Errno.EINVAL, "map is not a READY struct_ops map created with BPF_F_LINK");
        }
        if (!r.IsOk)
        {
            return r.For(BpfCommand.LinkCreate);
        }
        var map = (StructOpsMap)m;
        map.Inc(); // the link's map reference (bpf_map_get)
        var link = new StructOpsLink(this, map);
        r = map.StructOpsType.Register(map.KernelData!, link);
        if (!r.IsOk)
        {
            link.Map = null; // nothing to unregister
            link.Put();
            map.Put();
            return r.For(BpfCommand.LinkCreate);
        }
        map.AddLink("linked");
        linkFd = Caller.Install(link);
        return BpfResult.Ok;
    }

    private static bool IsReadyLinkMap(BpfMap map) =>
        map is StructOpsMap { IsLinkMode: true, State: StructOpsState.Ready };

    /// <summary>
    /// BPF_LINK_UPDATE: swaps the link's map for another READY link-mode map of the same type through the type's
    /// update op; new users get the new map, existing users keep the old one, which stays READY.
    /// </summary>
    /// <returns>In the kernel's order: EINVAL new map not a READY link-mode struct_ops map; EOPNOTSUPP type without
    /// update; ENOLINK detached link; EPERM BPF_F_REPLACE with a different old map; EINVAL another type; EINVAL the
    /// map the link already holds (Linux 6.18 has no such check and corrupts its list); the type's update error.</returns>
    /// <remarks>For a link that holds a program (XDP, tcx, freplace) the fds are programs: see
    /// <see cref="LinkUpdate(int, int, int)"/>.</remarks>
    public BpfResult LinkUpdate(int linkFd, int newMapFd, uint flags = 0, int oldMapFd = 0)
    {
        if ((flags & ~LinkUpdateReplace) == 0 && Caller.Get(linkFd) is BpfLink and not StructOpsLink)
        {
            return LinkUpdateProg(linkFd, newMapFd, flags, oldMapFd);
        }
        var r = UpdateLink(linkFd, newMapFd, flags, oldMapFd);
        return r.IsOk ? r : r.For(BpfCommand.LinkUpdate);
    }

    private BpfResult UpdateLink(int linkFd, int newMapFd, uint flags, int oldMapFd)
    {
        // link_update, link_update_map, then bpf_struct_ops_map_link_update (kernel/bpf/syscall.c, bpf_struct_ops.c).
        if ((flags & ~LinkUpdateReplace) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "flags may only contain BPF_F_REPLACE");
        }
        var r = ResolveStructOpsLink(linkFd, out var link);
        if (!r.IsOk)
        {
            return r;
        }
        r = ResolveMap(newMapFd, out var newMap);
        if (!r.IsOk)
        {
            return r;
        }
        BpfMap? expected = null;
        if ((flags & LinkUpdateReplace) != 0)
        {
            r = ResolveMap(oldMapFd, out var oldFromFd);
            if (!r.IsOk)
            {
                return r;
            }
            expected = oldFromFd;
        }
        else if (oldMapFd != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "old_map_fd given without BPF_F_REPLACE");
        }
        if (!IsReadyLinkMap(newMap) || newMap is not StructOpsMap next)
        {
            return BpfResult.Fail(Errno.EINVAL, "new map is not a READY struct_ops map created with BPF_F_LINK");
        }
        if (!next.StructOpsType.SupportsUpdate)
        {
            return BpfResult.Fail(Errno.EOPNOTSUPP, $"{next.StructOpsType.Name} has no update op");
        }
        if (link!.Map is not { } old)
        {
            return BpfResult.Fail(Errno.ENOLINK, "link is detached");
        }
        if (expected is not null && !ReferenceEquals(expected, old))
        {
            return BpfResult.Fail(Errno.EPERM, "BPF_F_REPLACE: the link does not hold old_map_fd's map");
        }
        if (next.StructOpsType != old.StructOpsType)
        {
            return BpfResult.Fail(Errno.EINVAL, $"new map is {next.StructOpsType.Name}, the link holds {old.StructOpsType.Name}");
        }
        if (ReferenceEquals(next, old))
        {
            return BpfResult.Fail(Errno.EINVAL, "the link already holds this map");
        }
        if (link.Updating)
        {
            // The kernel serialises updates with update_mutex; here the first one's grace period runs the event loop,
            // so a second update of the same link at that moment is refused rather than interleaved.
            return BpfResult.Fail(Errno.EBUSY, "another update of this link is in progress");
        }
        link.Updating = true;
        try
        {
            r = next.StructOpsType.Update(next.KernelData!, old.KernelData!, link);
        }
        finally
        {
            link.Updating = false;
        }
        if (!r.IsOk)
        {
            DetachIfPending(link);
            return r;
        }
        next.Inc();
        link.Map = next;
        next.AddLink("linked (update)");
        old.RemoveLink("unlinked (update)");
        old.Put();
        DetachIfPending(link);
        return BpfResult.Ok;
    }

    private static void DetachIfPending(StructOpsLink link)
    {
        if (link.DetachPending)
        {
            link.DetachPending = false;
            link.Detach();
        }
    }

    /// <summary>BPF_LINK_DETACH: unregisters and drops the map; the link fd stays open. Detaching twice is fine.</summary>
    public BpfResult LinkDetach(int linkFd)
    {
        if (Caller.Get(linkFd) is BpfLink other && other is not StructOpsLink)
        {
            // bpf_link_detach: every link type here has a detach op.
            other.Detach();
            return BpfResult.Ok;
        }
        var r = ResolveStructOpsLink(linkFd, out var link);
        if (!r.IsOk)
        {
            return r.For(BpfCommand.LinkDetach);
        }
        link!.Detach();
        return BpfResult.Ok;
    }

    private BpfResult ResolveStructOpsLink(int fd, out StructOpsLink? link)
    {
        link = null;
        switch (Caller.Get(fd))
        {
            case null:
                return BpfResult.Fail(Errno.EBADF, $"link fd {fd} is not open");
            case StructOpsLink l:
                link = l;
                return BpfResult.Ok;
            case BpfLink:
                return BpfResult.Fail(Errno.EINVAL, $"fd {fd} is not a struct_ops link");
            default:
                return BpfResult.Fail(Errno.EINVAL, $"fd {fd} is not a link");
        }
    }
}
