using BpfSim.Core.Bpf.Links;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>
/// A struct_ops link (struct bpf_struct_ops_link): holds a reference on a READY link-mode map and keeps it
/// registered; <see cref="BpfSystem.LinkUpdate(int, int, uint, int)"/> swaps the map atomically, and detaching or releasing it unregisters.
/// </summary>
public sealed class StructOpsLink : BpfLink
{
    internal StructOpsLink(BpfSystem system, StructOpsMap map) : base(system)
    {
        Map = map;
    }

    /// <summary>The map registered through this link, or null once detached.</summary>
    public StructOpsMap? Map { get; internal set; }

    public override string TypeName => "struct_ops";

    public override bool IsDetached => Map is null;

    /// <summary>An update (<see cref="BpfSystem.LinkUpdate(int, int, uint, int)"/>) is between its checks and its swap.</summary>
    internal bool Updating { get; set; }

    /// <summary>A detach arrived during an update; it is carried out when the update has swapped the map.</summary>
    internal bool DetachPending { get; set; }

    internal override void Detach()
    {
        if (Updating)
        {
            // The kernel's detach waits for update_mutex, then detaches whatever map the update left: so do we, once
            // the update (whose grace period lets other simulated work run) has finished.
            DetachPending = true;
            return;
        }
        var map = Map;
        if (map is null)
        {
            return;
        }
        // Detached before unreg waits its grace period: a second detach meanwhile finds nothing to do, as it finds
        // st_link->map NULL after waiting for update_mutex in bpf_struct_ops_map_link_detach.
        Map = null;
        map.StructOpsType.Unregister(map.KernelData!, this);
        map.RemoveLink("unlinked");
        map.Put();
    }
}
