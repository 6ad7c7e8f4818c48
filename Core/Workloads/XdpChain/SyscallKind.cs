namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>The user-space calls the three designs' clients make; each is one step of a component's actor.</summary>
public enum SyscallKind
{
    /// <summary>BPF_PROG_LOAD of a component's XDP or SCHED_CLS program (verification included).</summary>
    ProgLoad,
    /// <summary>BPF_PROG_LOAD of an EXT (freplace) program against a dispatcher slot.</summary>
    ExtProgLoad,
    /// <summary>BPF_PROG_LOAD of libxdp's dispatcher (10 slots, BTF, rodata config frozen).</summary>
    DispatcherLoad,
    /// <summary>BPF_LINK_CREATE of a freplace link (trampoline text poke).</summary>
    FreplaceLink,
    MapCreate,
    MapLookup,
    MapUpdate,
    MapDelete,
    MapGetNextKey,
    /// <summary>BPF_PROG_GET_FD_BY_ID / BPF_OBJ_GET_INFO_BY_FD.</summary>
    ProgInfo,
    /// <summary>RTM_SETLINK with IFLA_XDP (netlink), including the driver's program swap.</summary>
    XdpAttach,
    /// <summary>RTM_GETLINK for IFLA_XDP (what is attached).</summary>
    XdpQuery,
    /// <summary>BPF_PROG_QUERY of the tcx bundle.</summary>
    ProgQuery,
    /// <summary>BPF_PROG_ATTACH / BPF_PROG_DETACH on tcx, and the tcx link calls (BPF_LINK_CREATE, BPF_LINK_UPDATE,
    /// BPF_LINK_DETACH), which do the same work under rtnl_lock.</summary>
    ProgAttach,
    /// <summary>bpffs: open + flock, mkdir, bpf_obj_pin, bpf_obj_get, unlink.</summary>
    BpffsOp,
    Close,
    /// <summary>A retry's back-off sleep (libxdp: usleep(1 &lt;&lt; retry)); its length is the step's, not the model's.</summary>
    Sleep,
}
