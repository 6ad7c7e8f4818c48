namespace BpfSim.Core.Bpf.StructOps;

/// <summary><c>enum bpf_struct_ops_state</c> (kernel/bpf/bpf_struct_ops.c), with the kernel's values.</summary>
public enum StructOpsState : uint
{
    /// <summary>Created, not populated; lookup shows an all-zero value.</summary>
    Init = 0,
    /// <summary>Registered with its subsystem (a plain map after update of key 0).</summary>
    InUse = 1,
    /// <summary>Unregistered by delete; existing users keep it until they let go; never registered again.</summary>
    ToBeFree = 2,
    /// <summary>A link-mode map, populated and ready to be attached (and while attached) through a link.</summary>
    Ready = 3,
}

/// <summary>Kernel spellings of <see cref="StructOpsState"/>.</summary>
public static class StructOpsStateNames
{
    /// <summary>e.g. <c>BPF_STRUCT_OPS_STATE_INUSE</c>.</summary>
    public static string KernelName(this StructOpsState state) => "BPF_STRUCT_OPS_STATE_" + ShortName(state);

    /// <summary>e.g. <c>INUSE</c>, as the summary JSON prints it.</summary>
    public static string ShortName(this StructOpsState state) => state switch
    {
        StructOpsState.Init => "INIT",
        StructOpsState.InUse => "INUSE",
        StructOpsState.ToBeFree => "TOBEFREE",
        _ => "READY",
    };
}
