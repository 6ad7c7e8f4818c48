using BpfSim.Core.Bpf.Links;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>
/// A struct_ops link (struct bpf_struct_ops_link): holds a reference on a READY link-mode map and keeps it
/// registered; <see cref="BpfSystem.LinkUpdate"/> swaps the map atomically, and detaching or releasing it unregisters.
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

    internal override void Detach()
    {
        var map = Map;
        if (map is null)
        {
            return;
        }
        map.StructOpsType.Unregister(map.KernelData!, this);
        Map = null;
        map.RemoveLink("unlinked");
        map.Put();
    }
}
