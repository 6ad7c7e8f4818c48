using System.Runtime.CompilerServices;

namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>Ten u32 values, one per dispatcher slot (a <c>__u32 x[MAX_DISPATCHER_ACTIONS]</c> of the config).</summary>
[InlineArray(XdpDispatcherConfig.MaxDispatcherActions)]
public struct XdpDispatcherSlots
{
    private uint _element0;
}
