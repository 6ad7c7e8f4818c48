namespace BpfSim.Core.Bpf;

/// <summary>The bpf(2) commands, numbered as in include/uapi/linux/bpf.h (enum bpf_cmd).</summary>
public enum BpfCommand
{
    MapCreate = 0,
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    MapGetNextKey = 4,
    ProgLoad = 5,
    ProgAttach = 8,
    ProgDetach = 9,
    ProgGetFdById = 13,
    MapGetFdById = 14,
    ObjGetInfoByFd = 15,
    ProgQuery = 16,
    MapLookupAndDeleteElem = 21,
    LinkCreate = 28,
    LinkUpdate = 29,
    LinkDetach = 34,

    /// <summary>close(2) on a bpf fd; not a bpf command, listed so errors can name it.</summary>
    Close = 1000,

    /// <summary>
    /// The BPF_SYNCHRONIZE command proposed on the bpf mailing list in 2018 and not merged: wait for one RCU grace
    /// period. bpfsim offers it so the batched alternative to per-update waiting can be measured.
    /// </summary>
    Synchronize = 1001,

    /// <summary>A helper called by a program (bpf_map_*_elem), not a syscall.</summary>
    ProgramHelper = 1002,

    /// <summary>rtnetlink RTM_SETLINK with IFLA_XDP (dev_change_xdp_fd): the netlink XDP attach, not a bpf command.</summary>
    NetlinkXdp = 1003,

    /// <summary>rtnetlink RTM_GETLINK's IFLA_XDP_PROG_ID: the netlink XDP query.</summary>
    NetlinkXdpQuery = 1004,
}

/// <summary>Kernel names of <see cref="BpfCommand"/> values for messages.</summary>
public static class BpfCommandNames
{
    /// <summary>The uapi name, e.g. <c>BPF_MAP_UPDATE_ELEM</c>.</summary>
    public static string Name(this BpfCommand command) => command switch
    {
        BpfCommand.MapCreate => "BPF_MAP_CREATE",
        BpfCommand.MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
        BpfCommand.MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
        BpfCommand.MapDeleteElem => "BPF_MAP_DELETE_ELEM",
        BpfCommand.MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
        BpfCommand.ProgLoad => "BPF_PROG_LOAD",
        BpfCommand.ProgAttach => "BPF_PROG_ATTACH",
        BpfCommand.ProgDetach => "BPF_PROG_DETACH",
        BpfCommand.ProgQuery => "BPF_PROG_QUERY",
        BpfCommand.ProgGetFdById => "BPF_PROG_GET_FD_BY_ID",
        BpfCommand.MapGetFdById => "BPF_MAP_GET_FD_BY_ID",
        BpfCommand.ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
        BpfCommand.MapLookupAndDeleteElem => "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
        BpfCommand.LinkCreate => "BPF_LINK_CREATE",
        BpfCommand.LinkUpdate => "BPF_LINK_UPDATE",
        BpfCommand.LinkDetach => "BPF_LINK_DETACH",
        BpfCommand.Close => "close",
        BpfCommand.Synchronize => "BPF_SYNCHRONIZE (proposed)",
        BpfCommand.ProgramHelper => "bpf helper",
        BpfCommand.NetlinkXdp => "RTM_SETLINK IFLA_XDP",
        BpfCommand.NetlinkXdpQuery => "RTM_GETLINK IFLA_XDP",
        _ => command.ToString(),
    };
}
