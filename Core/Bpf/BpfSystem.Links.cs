using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>
    /// BPF_LINK_UPDATE of a link that holds a program (link_update in kernel/bpf/syscall.c): swaps the program of an
    /// XDP link (bpf_xdp_link_update) or a tcx link (tcx_link_update) atomically. With
    /// <paramref name="oldProgFd"/> ≥ 0 it is BPF_F_REPLACE: the link must hold that program now.
    /// </summary>
    /// <returns>EBADF/EINVAL bad link or program fds; EINVAL a link type without update_prog (freplace, or struct_ops:
    /// use the map form), or a new program of another type; ENOLINK the link is detached; EPERM the link does not hold
    /// the old program; for tcx also EEXIST (the new program is already in the bundle).</returns>
    public BpfResult LinkUpdate(int linkFd, int newProgFd, int oldProgFd) =>
        oldProgFd >= 0 ? LinkUpdateProg(linkFd, newProgFd, LinkUpdateReplace, oldProgFd) : LinkUpdateProg(linkFd, newProgFd, 0, 0);

    private BpfResult LinkUpdateProg(int linkFd, int newProgFd, uint flags, int oldProgFd) =>
        UpdateProgLink(linkFd, newProgFd, flags, oldProgFd).For(BpfCommand.LinkUpdate);

    private BpfResult UpdateProgLink(int linkFd, int newProgFd, uint flags, int oldProgFd)
    {
        if ((flags & ~LinkUpdateReplace) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "flags may only contain BPF_F_REPLACE");
        }
        if (Caller.Get(linkFd) is not BpfLink link)
        {
            return Caller.Get(linkFd) is null
                ? BpfResult.Fail(Errno.EBADF, $"link fd {linkFd} is not open")
                : BpfResult.Fail(Errno.EINVAL, $"fd {linkFd} is not a link");
        }
        var r = ResolveProgram(newProgFd, out var next);
        if (!r.IsOk)
        {
            return r;
        }
        BpfProgram? expected = null;
        if ((flags & LinkUpdateReplace) != 0)
        {
            r = ResolveProgram(oldProgFd, out var e);
            if (!r.IsOk)
            {
                return r;
            }
            expected = e;
        }
        else if (oldProgFd != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "old_prog_fd given without BPF_F_REPLACE");
        }
        return link switch
        {
            XdpLink x => UpdateXdpLink(x, next, expected),
            TcxLink t => UpdateTcxLink(t, next, expected),
            _ => BpfResult.Fail(Errno.EINVAL, $"{link.TypeName} links cannot change their program"),
        };
    }

    /// <summary>bpf_xdp_link_update (net/core/dev.c).</summary>
    private static BpfResult UpdateXdpLink(XdpLink link, BpfProgram next, BpfProgram? expected)
    {
        if (link.Device is not { } dev)
        {
            return BpfResult.Fail(Errno.ENOLINK, "link is detached");
        }
        if (expected is not null && !ReferenceEquals(link.Program, expected))
        {
            return BpfResult.Fail(Errno.EPERM, "BPF_F_REPLACE: the link does not hold old_prog_fd's program");
        }
        var old = link.Program;
        if (old.Type != next.Type)
        {
            return BpfResult.Fail(Errno.EINVAL, $"new program is {BpfProgram.TypeName(next.Type)}, the link runs {BpfProgram.TypeName(old.Type)}");
        }
        if (ReferenceEquals(old, next))
        {
            return BpfResult.Ok;
        }
        var r = CheckDeviceProgram(next);
        if (!r.IsOk)
        {
            return r;
        }
        next.Inc();
        link.Program = next;
        dev.Xdp.SetLink(link, next);
        old.Put();
        return BpfResult.Ok;
    }
}
