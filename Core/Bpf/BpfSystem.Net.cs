using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    private readonly List<NetDevice> _netDevices = [];

    /// <summary>The network devices, in ifindex order (ifindex = position + 1).</summary>
    public IReadOnlyList<NetDevice> NetDevices => _netDevices;

    /// <summary>Per-packet instrumentation of the hooks; null (the default) costs one null check per program run.</summary>
    public IPacketProgramObserver? PacketObserver { get; set; }

    /// <summary>The device whose hook is running a program, for programs that run others (dispatcher slots).</summary>
    internal NetDevice? RunningDevice { get; set; }

    /// <summary>Registers a network device (register_netdevice) with the next ifindex: 1, 2, ...</summary>
    /// <exception cref="ArgumentException">The name is empty or already taken.</exception>
    public NetDevice AddNetDevice(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_netDevices.Exists(d => d.Name == name))
        {
            throw new ArgumentException($"a net device named '{name}' already exists", nameof(name));
        }
        var dev = new NetDevice(this, (uint)_netDevices.Count + 1, name);
        _netDevices.Add(dev);
        return dev;
    }

    /// <summary>The device with <paramref name="ifindex"/>, or null (__dev_get_by_index).</summary>
    public NetDevice? NetDeviceByIndex(uint ifindex) =>
        ifindex >= 1 && ifindex <= _netDevices.Count ? _netDevices[(int)ifindex - 1] : null;

    private BpfResult ResolveDevice(uint ifindex, out NetDevice dev)
    {
        dev = NetDeviceByIndex(ifindex)!;
        return dev is null ? BpfResult.Fail(Errno.ENODEV, $"no net device with ifindex {ifindex}") : BpfResult.Ok;
    }

    /// <summary>
    /// The netlink XDP attach (dev_change_xdp_fd, then dev_xdp_attach in net/core/dev.c): attaches the XDP program
    /// <paramref name="progFd"/> to the device, or detaches with -1. With <see cref="XdpFlags.Replace"/>,
    /// <paramref name="expectedFd"/> names the program that must be attached now (-1: none).
    /// </summary>
    /// <returns>ENODEV unknown device; EINVAL unknown flags, more than one mode flag, a program that is not XDP or is
    /// a BPF_XDP_DEVMAP or BPF_XDP_CPUMAP program; EBADF a fd that is not open; EBUSY an XDP link or a chain-call map
    /// holds the hook, or UPDATE_IF_NOEXIST with a program attached; EEXIST REPLACE and the attached program is not the expected one.</returns>
    public BpfResult XdpAttach(uint ifindex, int progFd, XdpFlags flags, int expectedFd = -1) =>
        AttachXdp(ifindex, progFd, flags, expectedFd).For(BpfCommand.NetlinkXdp);

    private BpfResult AttachXdp(uint ifindex, int progFd, XdpFlags flags, int expectedFd)
    {
        var r = ResolveXdpAttach<BpfProgram>(ifindex, progFd, flags, expectedFd, ResolveXdpProgram, out var dev, out var next, out var expected);
        if (!r.IsOk)
        {
            return r;
        }
        var hook = dev.Xdp;
        if (hook.Link is not null)
        {
            return BpfResult.Fail(Errno.EBUSY, "Can't replace active BPF XDP link");
        }
        if (hook.ChainMap is not null)
        {
            return BpfResult.Fail(Errno.EBUSY, "a chain-call map is attached (detach it with XdpAttachChainMap(-1))");
        }
        var current = hook.Program;
        if ((flags & XdpFlags.Replace) != 0 && !ReferenceEquals(current, expected))
        {
            return BpfResult.Fail(Errno.EEXIST, "Active program does not match expected");
        }
        if (next is not null && (flags & XdpFlags.UpdateIfNoExist) != 0 && current is not null)
        {
            return BpfResult.Fail(Errno.EBUSY, "XDP program already attached");
        }
        if (ReferenceEquals(next, current))
        {
            return BpfResult.Ok;
        }
        if (next is not null && !(r = CheckDeviceProgram(next)).IsOk)
        {
            return r;
        }
        next?.Inc();
        hook.SetProgram(next)?.Put();
        return BpfResult.Ok;
    }

    private BpfResult ResolveXdpProgram(int fd, out BpfProgram prog)
    {
        // bpf_prog_get_type_dev(fd, BPF_PROG_TYPE_XDP): EBADF for a closed fd, EINVAL for another type.
        var r = ResolveProgram(fd, out prog);
        if (r.IsOk && prog.Type != ProgramType.Xdp)
        {
            return BpfResult.Fail(Errno.EINVAL, $"program {prog.Name} (id {prog.Id}) is {BpfProgram.TypeName(prog.Type)}, not xdp");
        }
        return r;
    }

    /// <summary>
    /// dev_xdp_install (net/core/dev.c), reached by netlink attaches, link creation and link updates alike: a program
    /// loaded for a devmap or cpumap entry (<c>SEC("xdp/devmap")</c>, <c>SEC("xdp/cpumap")</c>) is no device's.
    /// </summary>
    internal static BpfResult CheckDeviceProgram(BpfProgram prog) => prog.ExpectedAttachType switch
    {
        ProgramAttachType.XdpDevmap => BpfResult.Fail(Errno.EINVAL, "BPF_XDP_DEVMAP programs can not be attached to a device"),
        ProgramAttachType.XdpCpumap => BpfResult.Fail(Errno.EINVAL, "BPF_XDP_CPUMAP programs can not be attached to a device"),
        _ => BpfResult.Ok,
    };

    /// <summary>The netlink XDP query (IFLA_XDP_PROG_ID): the id of the program the hook runs, 0 for none (a chain-call
    /// map reports 0: it is not a program).</summary>
    /// <returns>ENODEV for an unknown device.</returns>
    public BpfResult XdpQuery(uint ifindex, out uint progId)
    {
        progId = 0;
        var r = ResolveDevice(ifindex, out var dev);
        if (!r.IsOk)
        {
            return r.For(BpfCommand.NetlinkXdpQuery);
        }
        progId = dev.Xdp.Program?.Id ?? 0;
        return BpfResult.Ok;
    }

    /// <summary>
    /// BPF_LINK_CREATE with attach type BPF_XDP (bpf_xdp_link_attach, dev_xdp_attach_link): the link holds the hook
    /// until detached or released.
    /// </summary>
    /// <returns>EBADF/EINVAL a bad or non-XDP program fd; EINVAL unknown device (bpf_xdp_link_attach returns -EINVAL
    /// when dev_get_by_index fails, unlike netlink's ENODEV); EINVAL <paramref name="flags"/> other
    /// than one mode flag ("Invalid XDP flags for BPF link attachment"); EBUSY another link, a program attached
    /// through netlink, or a chain-call map already holds the hook; EINVAL a BPF_XDP_DEVMAP or BPF_XDP_CPUMAP
    /// program.</returns>
    public BpfResult XdpLinkCreate(int progFd, uint ifindex, out int linkFd, XdpFlags flags = XdpFlags.None)
    {
        linkFd = -1;
        var r = ResolveXdpProgram(progFd, out var prog);
        if (r.IsOk && ((flags & ~XdpFlags.Modes) != 0 || System.Numerics.BitOperations.PopCount((uint)flags) > 1))
        {
            r = BpfResult.Fail(Errno.EINVAL, "an XDP link takes at most one mode flag and no other XDP flags");
        }
        if (r.IsOk)
        {
            r = ResolveDevice(ifindex, out var dev);
            if (!r.IsOk)
            {
                r = BpfResult.Fail(Errno.EINVAL, $"no net device with ifindex {ifindex} (bpf_xdp_link_attach)");
            }
            else
            {
                var hook = dev.Xdp;
                if (hook.Link is not null)
                {
                    r = BpfResult.Fail(Errno.EBUSY, "Can't replace active BPF XDP link");
                }
                else if (hook.ChainMap is not null || hook.Program is not null)
                {
                    r = BpfResult.Fail(Errno.EBUSY, "Can't replace active XDP program with BPF link");
                }
                else if ((r = CheckDeviceProgram(prog)).IsOk)
                {
                    prog.Inc();
                    var link = new XdpLink(this, dev, prog, flags);
                    hook.SetLink(link, prog);
                    linkFd = Caller.Install(link);
                }
            }
        }
        return r.For(BpfCommand.LinkCreate);
    }

    /// <summary>
    /// Attaches a chain-call map to the XDP hook (the 2019 proposal) or detaches it with -1. With
    /// <see cref="XdpFlags.Replace"/>, <paramref name="expectedMapFd"/> names the map that must be attached now (-1:
    /// none): the whole-map atomic replace. The hook holds a reference on the map.
    /// </summary>
    /// <returns>ENODEV unknown device; EINVAL unknown or several mode flags, a map that is not a chain-call map; EBADF a
    /// closed fd; EBUSY a program or link holds the hook, or UPDATE_IF_NOEXIST with a map attached; EEXIST REPLACE
    /// and the attached map is not the expected one.</returns>
    public BpfResult XdpAttachChainMap(uint ifindex, int mapFd, XdpFlags flags, int expectedMapFd = -1) =>
        AttachChainMap(ifindex, mapFd, flags, expectedMapFd).For(BpfCommand.NetlinkXdp);

    private BpfResult AttachChainMap(uint ifindex, int mapFd, XdpFlags flags, int expectedMapFd)
    {
        var r = ResolveXdpAttach<ChainCallMap>(ifindex, mapFd, flags, expectedMapFd, ResolveChainMap, out var dev, out var next, out var expected);
        if (!r.IsOk)
        {
            return r;
        }
        var hook = dev.Xdp;
        if (hook.Link is not null || hook.Program is not null)
        {
            return BpfResult.Fail(Errno.EBUSY, "an XDP program or link holds the hook");
        }
        var current = hook.ChainMap;
        if ((flags & XdpFlags.Replace) != 0 && !ReferenceEquals(current, expected))
        {
            return BpfResult.Fail(Errno.EEXIST, "Active chain-call map does not match expected");
        }
        if (next is not null && (flags & XdpFlags.UpdateIfNoExist) != 0 && current is not null)
        {
            return BpfResult.Fail(Errno.EBUSY, "a chain-call map is already attached");
        }
        if (ReferenceEquals(next, current))
        {
            return BpfResult.Ok;
        }
        next?.Inc();
        hook.SetChainMap(next)?.Put();
        return BpfResult.Ok;
    }

    private BpfResult ResolveChainMap(int fd, out ChainCallMap map)
    {
        map = null!;
        var r = ResolveMap(fd, out var m);
        if (!r.IsOk)
        {
            return r;
        }
        if (m is not ChainCallMap c)
        {
            return BpfResult.Fail(Errno.EINVAL, $"map {m.Name} (id {m.Id}) is {m.Type.ShortName()}, not a chain-call map");
        }
        map = c;
        return BpfResult.Ok;
    }

    private delegate BpfResult Resolver<T>(int fd, out T value);

    /// <summary>
    /// The argument checks of an XDP attach, in dev_change_xdp_fd's order (net/core/dev.c): the device, the flags, what
    /// to attach (-1: detach), then with <see cref="XdpFlags.Replace"/> what must be attached now (-1: nothing).
    /// </summary>
    private BpfResult ResolveXdpAttach<T>(uint ifindex, int fd, XdpFlags flags, int expectedFd, Resolver<T> resolve,
        out NetDevice dev, out T? next, out T? expected) where T : class
    {
        next = null;
        expected = null;
        var r = ResolveDevice(ifindex, out dev);
        if (r.IsOk)
        {
            r = CheckXdpFlags(flags);
        }
        if (r.IsOk && fd >= 0)
        {
            r = resolve(fd, out T found);
            next = found;
        }
        if (r.IsOk && (flags & XdpFlags.Replace) != 0 && expectedFd >= 0)
        {
            r = resolve(expectedFd, out T found);
            expected = found;
        }
        return r;
    }

    /// <summary>dev_xdp_attach's flag checks: known flags only, and at most one mode flag.</summary>
    private static BpfResult CheckXdpFlags(XdpFlags flags)
    {
        if ((flags & ~XdpFlags.Mask) != 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "unknown XDP flags");
        }
        return System.Numerics.BitOperations.PopCount((uint)(flags & XdpFlags.Modes)) > 1
            ? BpfResult.Fail(Errno.EINVAL, "Only one XDP mode flag can be set")
            : BpfResult.Ok;
    }
}
