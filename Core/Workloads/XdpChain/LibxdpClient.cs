using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// A component's user space through libxdp (xdp_program__attach_multi / detach_multi in xdp-project/xdp-tools
/// lib/libxdp/libxdp.c): read the interface's dispatcher and its pinned components, build the new sorted list, load a
/// new dispatcher with its frozen config, link every component into its slot with a freplace link, pin, swap the
/// dispatcher in with XDP_FLAGS_REPLACE expecting the old one (the first with XDP_FLAGS_UPDATE_IF_NOEXIST), then
/// unpin the old one, which releases its links. EEXIST/EBUSY: unpin, back off 2^n µs, start over.
/// </summary>
/// <remarks>
/// Where this model differs from the library: a replace builds one new dispatcher with the old version out and the
/// new one in (libxdp's API would take a detach and an attach, two swaps with a gap between them); EBUSY from a
/// dispatcher that lost its pins while being read (another component's unpin) is retried here, where libxdp returns
/// it to the application. The bpffs flock (<see cref="XdpChainScenario.LibxdpFlock"/>) serialises reads and writes of
/// the pin directories, not the swap; without it a reader can find a half-removed directory and must retry.
/// </remarks>
internal sealed partial class LibxdpClient(ChainRunContext context) : ChainClient(context)
{
    /// <summary>MAX_DISPATCHER_ACTIONS.</summary>
    public const int Slots = 10;
    private static readonly SimTime s_flockPoll = SimTime.FromMicroseconds(5);

    private readonly int[][] _ext = context.Actors.Select(a => Enumerable.Repeat(-1, a.Spec.Versions.Count).ToArray()).ToArray();

    /// <summary>A program of the list a dispatcher is built from.</summary>
    private sealed record Entry(int Component, int Version, string Name, uint Priority, uint ChainActions, int Fd, bool Loaded, uint Id);

    protected override IEnumerable<SyscallKind> Start(ComponentActor actor, int version) => Change(actor, version, -1);

    protected override IEnumerable<SyscallKind> Replace(ComponentActor actor, int from, int to) => Change(actor, to, from);

    protected override IEnumerable<SyscallKind> Stop(ComponentActor actor, int version) => Change(actor, -1, version);

    private string Dir(uint dispatcherId) => $"/sys/fs/bpf/xdp/dispatch-{Ifindex}-{dispatcherId}";

    private IEnumerable<SyscallKind> Lock(ComponentActor actor)
    {
        if (!Scenario.LibxdpFlock)
        {
            yield break;
        }
        while (Context.FlockHolder >= 0 && Context.FlockHolder != actor.Index)
        {
            actor.SleepFor = s_flockPoll; // flock(LOCK_EX) blocks; polled here at 5 µs
            yield return SyscallKind.Sleep;
        }
        Context.FlockHolder = actor.Index;
        yield return SyscallKind.BpffsOp;
    }

    private IEnumerable<SyscallKind> Unlock(ComponentActor actor)
    {
        if (!Scenario.LibxdpFlock)
        {
            yield break;
        }
        yield return SyscallKind.BpffsOp;
        Context.FlockHolder = -1;
    }

    /// <summary>The programs of the dispatcher <paramref name="dispatcherFd"/> from its config and its pins (xdp_multiprog__link_pinned_progs).</summary>
    private IEnumerable<SyscallKind> ReadComponents(ComponentActor actor, int dispatcherFd, uint dispatcherId, List<Entry> into, Attempt attempt)
    {
        yield return SyscallKind.MapLookup; // the dispatcher's rodata config
        var r = Bpf.XdpDispatcherConfigOf(dispatcherFd, out var config);
        if (!r.IsOk)
        {
            attempt.Error = BpfResult.Fail(Errno.EBUSY, "the program on the interface is not a libxdp dispatcher");
            yield break;
        }
        foreach (var step in Lock(actor))
        {
            yield return step;
        }
        string dir = Dir(dispatcherId);
        var slots = DispatcherConfigs.Read(config);
        for (int i = 0; i < slots.Count; i++)
        {
            yield return SyscallKind.BpffsOp; // bpf_obj_get(progN-prog)
            if (!Context.Pins.TryGetValue($"{dir}/prog{i}-prog", out int pinned))
            {
                attempt.Error = BpfResult.Fail(Errno.EBUSY, $"dispatcher {dispatcherId} has no pinned prog{i} (being removed)");
                break;
            }
            yield return SyscallKind.ProgInfo;
            uint id = IdOf(pinned);
            Bpf.ProgGetFdById(id, out int fd).ThrowIfFailed();
            Bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).ThrowIfFailed();
            if (!Context.Identities.TryGetByName(info.Name, out int component, out int version))
            {
                component = version = -1;
            }
            into.Add(new Entry(component, version, info.Name, slots[i].Priority, slots[i].ChainActions, fd, true, id));
        }
        foreach (var step in Unlock(actor))
        {
            yield return step;
        }
    }

    /// <summary>What one pass of the retry loop found and made, for the clean-up.</summary>
    private sealed class Attempt
    {
        public BpfResult Error = BpfResult.Ok;
        public int OldFd = -1;
        public uint OldId;
        public int NewFd = -1;
        public uint NewId;
        public readonly List<Entry> Existing = [];
        public readonly List<int> Links = [];
        public bool Pinned;
    }
}
