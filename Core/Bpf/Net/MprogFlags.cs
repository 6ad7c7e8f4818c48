namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// The attach flags of a bpf_mprog attach or detach (include/uapi/linux/bpf.h): how the relative object is given and
/// where the program goes. <see cref="Mask"/> is BPF_F_ATTACH_MASK_MPROG; any other bit is EINVAL.
/// </summary>
[Flags]
public enum MprogFlags : uint
{
    None = 0,

    /// <summary>BPF_F_REPLACE: replace the program given as replace_bpf_fd in place.</summary>
    Replace = 1 << 2,

    /// <summary>BPF_F_BEFORE: insert before the relative object (no object: first).</summary>
    Before = 1 << 3,

    /// <summary>BPF_F_AFTER: insert after the relative object (no object: last).</summary>
    After = 1 << 4,

    /// <summary>BPF_F_ID: the relative object is given by id, not fd.</summary>
    Id = 1 << 5,

    /// <summary>BPF_F_LINK: the relative object is a link.</summary>
    Link = 1 << 13,

    /// <summary>BPF_F_ATTACH_MASK_MPROG.</summary>
    Mask = Replace | Before | After | Id | Link,
}
