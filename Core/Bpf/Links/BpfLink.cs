namespace BpfSim.Core.Bpf.Links;

/// <summary>
/// A link (struct bpf_link): an attachment that lives as long as references to it do. Closing the last fd releases
/// it, which detaches it if it is still attached.
/// </summary>
public abstract class BpfLink : BpfObject
{
    private protected BpfLink(BpfSystem system) : base(system, BpfObjectKind.Link)
    {
    }

    /// <summary>bpftool's type name, e.g. <c>struct_ops</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>True once detached (explicitly or by release).</summary>
    public abstract bool IsDetached { get; }

    /// <summary>BPF_LINK_DETACH; detaching twice is not an error.</summary>
    internal abstract void Detach();

    private protected override void OnDead() => Detach();
}
