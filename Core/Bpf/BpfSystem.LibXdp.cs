using BpfSim.Core.Bpf.MultiProg.LibXdp;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>
    /// Loads a libxdp dispatcher: an XDP program named <c>xdp_dispatcher</c> with replaceable global functions
    /// prog0..prog9 and <paramref name="config"/> frozen in its rodata (what libxdp's xdp_multiprog__load does with
    /// xdp-dispatcher.o).
    /// </summary>
    /// <returns>EINVAL: magic is not 236, version is not 2, or more than 10 slots enabled.</returns>
    public BpfResult LoadXdpDispatcher(in XdpDispatcherConfig config, out int fd)
    {
        fd = -1;
        if (config.Magic != XdpDispatcherConfig.MagicValue || config.DispatcherVersion != XdpDispatcherConfig.CurrentVersion)
        {
            return BpfResult.Fail(Errno.EINVAL,
                $"dispatcher config magic {config.Magic} version {config.DispatcherVersion}; expected magic {XdpDispatcherConfig.MagicValue} version {XdpDispatcherConfig.CurrentVersion}")
                .For(BpfCommand.ProgLoad);
        }
        if (config.NumProgsEnabled > XdpDispatcherConfig.MaxDispatcherActions)
        {
            return BpfResult.Fail(Errno.EINVAL, $"num_progs_enabled {config.NumProgsEnabled} is above {XdpDispatcherConfig.MaxDispatcherActions}")
                .For(BpfCommand.ProgLoad);
        }
        var dispatcher = new XdpDispatcher(config);
        var spec = new ProgramSpec
        {
            Type = ProgramType.Xdp,
            Name = "xdp_dispatcher",
            License = "GPL",
            Body = new PacketProgramFunc(dispatcher.Run),
            GlobalFunctions = XdpDispatcher.SlotFunctions,
        };
        var r = ProgLoad(spec, out fd);
        if (r.IsOk)
        {
            var prog = (BpfProgram)Caller.Get(fd)!;
            prog.DispatcherConfig = config;
            dispatcher.Program = prog;
        }
        return r;
    }

    /// <summary>
    /// What libxdp reads back from a dispatcher (its rodata config map): the config it was loaded with.
    /// </summary>
    /// <returns>EBADF/EINVAL not a program fd; ENOENT a program that is not a dispatcher.</returns>
    public BpfResult XdpDispatcherConfigOf(int progFd, out XdpDispatcherConfig config)
    {
        config = default;
        var r = ResolveProgram(progFd, out var prog);
        if (!r.IsOk)
        {
            return r.For(BpfCommand.MapLookupElem);
        }
        if (prog.DispatcherConfig is not { } c)
        {
            return BpfResult.Fail(Errno.ENOENT, $"program {prog.Name} (id {prog.Id}) is not an XDP dispatcher").For(BpfCommand.MapLookupElem);
        }
        config = c;
        return BpfResult.Ok;
    }

    /// <summary>
    /// BPF_LINK_CREATE of an EXT program (bpf_tracing_prog_attach): replaces <paramref name="targetFunc"/> of
    /// <paramref name="targetProgFd"/> with <paramref name="extProgFd"/>. With target 0 and a null function, the target
    /// the program was loaded for is used (once: the kernel forgets it after the first attach). Another target must be
    /// compatible (multi-attach, Linux 5.10): the same type as the load-time target and a function of that name.
    /// </summary>
    /// <returns>EBADF/EINVAL bad fds; EINVAL not an EXT program, only one of target and function given, no target given
    /// after the first attach, a target that is EXT or of another type, no such function; EBUSY the function is already
    /// replaced by another link (the trampoline's extension_prog).</returns>
    public BpfResult FreplaceLinkCreate(int extProgFd, int targetProgFd, string? targetFunc, out int linkFd)
    {
        linkFd = -1;
        var r = CreateFreplaceLink(extProgFd, targetProgFd, targetFunc, out var link);
        if (r.IsOk)
        {
            linkFd = Caller.Install(link!);
        }
        return r.For(BpfCommand.LinkCreate);
    }

    private BpfResult CreateFreplaceLink(int extProgFd, int targetProgFd, string? targetFunc, out FreplaceLink? link)
    {
        link = null;
        var r = ResolveProgram(extProgFd, out var ext);
        if (!r.IsOk)
        {
            return r;
        }
        if (ext.Type != ProgramType.Ext)
        {
            return BpfResult.Fail(Errno.EINVAL, $"program {ext.Name} (id {ext.Id}) is {BpfProgram.TypeName(ext.Type)}, not ext");
        }
        if ((targetProgFd != 0) != (targetFunc is not null))
        {
            return BpfResult.Fail(Errno.EINVAL, "target_fd and target_btf_id go together");
        }
        BpfProgram target;
        if (targetProgFd == 0)
        {
            if (ext.AttachTarget is null)
            {
                return BpfResult.Fail(Errno.EINVAL, "the EXT program was attached before: give the target again");
            }
            target = ext.AttachTarget;
            targetFunc = ext.AttachFunc!;
        }
        else
        {
            r = CheckExtTarget(Caller.Get(targetProgFd), targetProgFd, targetFunc!, out var t);
            if (!r.IsOk)
            {
                return r;
            }
            target = t!;
            if (target.Type != ext.ExtendedType)
            {
                return BpfResult.Fail(Errno.EINVAL,
                    $"the EXT program extends {BpfProgram.TypeName(ext.ExtendedType)} programs, not {BpfProgram.TypeName(target.Type)}");
            }
        }
        int index = target.FunctionIndex(targetFunc!);
        if (target.FunctionLinks[index] is not null)
        {
            return BpfResult.Fail(Errno.EBUSY, $"{targetFunc} of {target.Name} (id {target.Id}) is already replaced");
        }
        ext.Inc();
        target.Inc();
        link = new FreplaceLink(this, ext, target, index);
        target.FunctionLinks[index] = link;
        // The load-time target is forgotten after the first attach (prog->aux->dst_prog cleared).
        if (ext.AttachTarget is { } saved)
        {
            ext.AttachTarget = null;
            saved.Put();
        }
        return BpfResult.Ok;
    }
}
