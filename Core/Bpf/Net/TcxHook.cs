using BpfSim.Core.Bpf.MultiProg.Mprog;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Net;

/// <summary>
/// The tcx ingress hook of one device (dev->tcx_ingress, kernel/bpf/tcx.c): a <see cref="MprogBundle"/> of SCHED_CLS
/// programs, created on the first attach and freed when the last program goes (so an empty hook reports revision 1
/// again, as a fresh bpf_mprog_bundle does). <see cref="Run"/> is tcx_run (net/core/dev.c).
/// </summary>
public sealed class TcxHook
{
    private MprogBundle? _bundle;

    internal TcxHook(NetDevice device)
    {
        Device = device;
    }

    public NetDevice Device { get; }

    /// <summary>No programs: the caller may skip building a context.</summary>
    public bool IsEmpty => _bundle is null;

    /// <summary>The bundle's revision; 1 when empty (bpf_mprog_query).</summary>
    public ulong Revision => _bundle?.Revision ?? 1;

    /// <summary>Programs attached.</summary>
    public int Count => _bundle?.Count ?? 0;

    /// <summary>The bundle, or null when nothing is attached.</summary>
    public MprogBundle? Bundle => _bundle;

    /// <summary>
    /// tcx_run: runs the programs in order until one returns something other than <see cref="TcxAction.Next"/>, then
    /// maps the result as tcx_action_code does: PASS, DROP and REDIRECT stay; NEXT and any unknown code become NEXT
    /// (continue to classic tc). Empty: NEXT. Allocates nothing.
    /// </summary>
    public int Run(ref PacketContext ctx)
    {
        var bundle = _bundle;
        if (bundle is null)
        {
            return TcxAction.Next;
        }
        var progs = bundle.Live;
        int ret = TcxAction.Next;
        for (int i = 0; i < progs.Length; i++)
        {
            var prog = progs[i];
            if (prog is null)
            {
                break;
            }
            ret = PacketRun.Run(Device, prog, ref ctx);
            if (ret != TcxAction.Next)
            {
                break;
            }
        }
        return ret is TcxAction.Pass or TcxAction.Drop or TcxAction.Redirect ? ret : TcxAction.Next;
    }

    /// <summary>tcx_entry_fetch_or_create.</summary>
    internal MprogBundle FetchOrCreate(out bool created)
    {
        created = _bundle is null;
        return _bundle ??= new MprogBundle();
    }

    /// <summary>tcx_entry_free when a failed first attach or the last detach leaves the bundle empty.</summary>
    internal void FreeIfEmpty()
    {
        if (_bundle is { Count: 0 })
        {
            _bundle = null;
        }
    }
}
