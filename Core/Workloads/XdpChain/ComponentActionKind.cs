namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>What a component's user space does at one point of its timeline.</summary>
public enum ComponentActionKind
{
    /// <summary>Attach a version of the program (the component was not running).</summary>
    Start,

    /// <summary>Swap the running version for another one.</summary>
    Replace,

    /// <summary>Detach the program.</summary>
    Stop,
}
