using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.MultiProg.LibXdp;

/// <summary>
/// The body of a libxdp dispatcher program (xdp-tools lib/libxdp/xdp-dispatcher.c.in): for each enabled slot i, call
/// progI (the EXT program freplace-linked there, else the stub that returns <see cref="XdpDispatcherConfig.DispatcherRetval"/>);
/// return its action unless bit (1 &lt;&lt; action) is set in the slot's chain-call mask; after the last slot,
/// XDP_PASS. The config is frozen at load.
/// </summary>
internal sealed class XdpDispatcher
{
    /// <summary>The dispatcher's replaceable functions, in slot order.</summary>
    internal static readonly string[] SlotFunctions = ["prog0", "prog1", "prog2", "prog3", "prog4", "prog5", "prog6", "prog7", "prog8", "prog9"];

    private readonly uint[] _chainCallActions;
    private readonly int _enabled;

    internal XdpDispatcher(in XdpDispatcherConfig config)
    {
        _enabled = config.NumProgsEnabled;
        _chainCallActions = new uint[XdpDispatcherConfig.MaxDispatcherActions];
        for (int i = 0; i < _chainCallActions.Length; i++)
        {
            _chainCallActions[i] = config.ChainCallActions[i];
        }
    }

    /// <summary>The dispatcher program, set once it is loaded.</summary>
    internal BpfProgram? Program { get; set; }

    internal int Run(ref PacketContext ctx)
    {
        var slots = Program!.FunctionLinks;
        var dev = Program.System.RunningDevice;
        for (int i = 0; i < _enabled; i++)
        {
            int ret;
            var link = slots[i];
            if (link is null)
            {
                ret = XdpDispatcherConfig.DispatcherRetval;
            }
            else
            {
                var ext = link.Program;
                ret = PacketRun.Invoke(Program.System, ext, ref ctx);
                if (dev is not null)
                {
                    dev.System.PacketObserver?.OnProgramRun(dev, ext, ret);
                }
            }
            // (1U << ret) in C; an action outside 0..31 has no bit, so it ends the chain.
            if ((uint)ret > 31 || (_chainCallActions[i] & (1u << ret)) == 0)
            {
                return ret;
            }
        }
        return (int)XdpAction.Pass;
    }
}
