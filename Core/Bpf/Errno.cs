namespace BpfSim.Core.Bpf;

/// <summary>
/// The error numbers bpf(2) returns, with Linux's values (include/uapi/asm-generic/errno-base.h, errno.h, and the
/// kernel-internal ENOTSUPP 524 that does reach user space from struct_ops and map code).
/// </summary>
public enum Errno
{
    /// <summary>Success.</summary>
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    /// <summary>No such process; libbpf's answer for an extern the kernel does not have.</summary>
    ESRCH = 3,
    E2BIG = 7,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    /// <summary>Bad address: what bpf_probe_read_kernel returns for memory it cannot read.</summary>
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    /// <summary>No such device: an ifindex no interface has.</summary>
    ENODEV = 19,
    EINVAL = 22,
    ENOSPC = 28,
    ERANGE = 34,
    ENOLINK = 67,
    EPROTO = 71,
    EOPNOTSUPP = 95,
    EINPROGRESS = 115,
    ESTALE = 116,
    ENOTSUPP = 524,
}
