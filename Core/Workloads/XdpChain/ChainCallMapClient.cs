using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// A component's user space on the 2019 chain-call map: walk the chain from {0, 0} through {prog, XDP_PASS}, find the
/// place its priority asks for, and splice itself in like a linked-list insert, one map update at a time, the
/// update that publishes it carrying the expected old value (EAGAIN when someone changed it: walk again and retry).
/// Or, with <see cref="XdpChainScenario.ChainMapWholeReplace"/>, build a whole new map and swap it in at the hook
/// with XDP_FLAGS_REPLACE and the expected old map (EEXIST: start over).
/// </summary>
/// <remarks>
/// The entry-by-entry protocol has windows the expected-value check cannot close: a packet between two updates can
/// see a half-spliced chain, and a neighbour's concurrent splice or unlink can leave an entry pointing at a program
/// that is gone (the chain ends early: later programs are skipped). That is what the experiment counts; the client
/// does not paper over it. The RFC's own user space (libbpf patches of Oct 2019) only ever changed one entry at a
/// time, leaving ordering to the caller.
/// </remarks>
internal sealed partial class ChainCallMapClient(ChainRunContext context) : ChainClient(context)
{
    private const uint Pass = (uint)XdpAction.Pass;
    private const int MaxWalk = 64;
    private const string MapPin = "/sys/fs/bpf/xdp/chain-map";
    private int _mapFd = -1;

    /// <summary>The system (not a component) created the chain-call map and attached it before anyone started.</summary>
    public override void Setup()
    {
        _mapFd = CreateMap();
        Bpf.XdpAttachChainMap(Ifindex, _mapFd, XdpFlags.UpdateIfNoExist).ThrowIfFailed();
        Context.Pins[MapPin] = _mapFd;
    }

    private int CreateMap()
    {
        Bpf.MapCreate(new MapSpec { Type = MapType.ChainCall, KeySize = ChainCallKey.Size, ValueSize = 4, MaxEntries = 64, Name = "xdp_chain" },
            out int fd).ThrowIfFailed();
        return fd;
    }

    /// <summary>One element of the chain as a walk found it.</summary>
    private readonly record struct Link(uint Id, int Component, int Version);

    /// <summary>Walks the chain (one lookup per element, one info call per program id) into <paramref name="chain"/>.</summary>
    private IEnumerable<SyscallKind> Walk(int mapFd, List<Link> chain)
    {
        chain.Clear();
        var key = ChainCallKey.Start;
        Span<byte> value = stackalloc byte[4];
        for (int i = 0; i < MaxWalk; i++)
        {
            yield return SyscallKind.MapLookup;
            var r = Lookup(mapFd, key, out uint id);
            if (!r.IsOk)
            {
                yield break; // ENOENT: the chain ends here
            }
            yield return SyscallKind.ProgInfo;
            var (component, version) = Resolve(id);
            chain.Add(new Link(id, component, version));
            key = new ChainCallKey(id, Pass);
        }
    }

    private BpfResult Lookup(int mapFd, ChainCallKey key, out uint id)
    {
        Span<byte> k = stackalloc byte[ChainCallKey.Size];
        Span<byte> v = stackalloc byte[4];
        key.Write(k);
        var r = Bpf.MapLookupElem(mapFd, k, v);
        id = r.IsOk ? BinaryPrimitives.ReadUInt32LittleEndian(v) : 0;
        return r;
    }

    private (int Component, int Version) Resolve(uint id)
    {
        if (!Bpf.ProgGetFdById(id, out int fd).IsOk)
        {
            return (-1, -1);
        }
        Bpf.ObjGetInfoByFd(fd, out BpfProgInfo info);
        Bpf.Close(fd);
        return Context.Identities.TryGetByName(info.Name, out int c, out int v) ? (c, v) : (-1, -1);
    }

    /// <summary>Where a component of <paramref name="priority"/> goes: after every element of lower or equal priority.</summary>
    private int InsertionIndex(List<Link> chain, int priority, int self)
    {
        int i = 0;
        while (i < chain.Count && (chain[i].Component == self || chain[i].Component < 0 || Context.Actors[chain[i].Component].Priority <= priority))
        {
            i++;
        }
        return i;
    }

    private static ChainCallKey KeyAfter(List<Link> chain, int index) =>
        index == 0 ? ChainCallKey.Start : new ChainCallKey(chain[index - 1].Id, Pass);

    private IEnumerable<SyscallKind> Load(ComponentActor actor, int version) => Load(actor, version, ProgramType.Xdp, ChainBodies.XdpPass);

    /// <summary>Sets <paramref name="key"/> to program <paramref name="fd"/> if it still holds program
    /// <paramref name="expectedFd"/> (-1: if it is empty): the RFC's cmpxchg-like update.</summary>
    /// <returns>EAGAIN when the entry changed since it was read.</returns>
    private BpfResult Publish(ChainCallKey key, int fd, int expectedFd)
    {
        Span<byte> k = stackalloc byte[ChainCallKey.Size];
        Span<byte> v = stackalloc byte[4];
        key.Write(k);
        BinaryPrimitives.WriteInt32LittleEndian(v, fd);
        return Bpf.MapUpdateElemExpected(_mapFd, k, v, expectedFd);
    }

    private BpfResult Update(int mapFd, ChainCallKey key, int fd, ulong flags)
    {
        Span<byte> k = stackalloc byte[ChainCallKey.Size];
        Span<byte> v = stackalloc byte[4];
        key.Write(k);
        BinaryPrimitives.WriteInt32LittleEndian(v, fd);
        return Bpf.MapUpdateElem(mapFd, k, v, flags);
    }

    /// <summary>Deletes <paramref name="key"/> if it holds program <paramref name="expectedFd"/> (-1: whatever it holds).</summary>
    private BpfResult Delete(ChainCallKey key, int expectedFd)
    {
        Span<byte> k = stackalloc byte[ChainCallKey.Size];
        key.Write(k);
        return Bpf.MapDeleteElemExpected(_mapFd, k, expectedFd);
    }
}
