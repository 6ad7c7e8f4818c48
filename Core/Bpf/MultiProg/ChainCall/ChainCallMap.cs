using System.Buffers.Binary;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.MultiProg.ChainCall;

/// <summary>
/// The chain-call map of Toke Høiland-Jørgensen's 2019 RFC "xdp: Support multiple programs on a single interface
/// through chain calls" (never merged), as bpfsim models it: a hash map from {prog id, action} to the next XDP
/// program. The map is attached to the XDP hook instead of a program (<see cref="BpfSystem.XdpAttachChainMap"/>); a
/// packet starts at the program under {0, 0}, and after each program the hook looks up {that program's id, its return
/// code}; no entry ends the chain with that code. User space writes a program fd and reads back the program id, as
/// with prog arrays; each entry holds a reference on its program, dropped when the entry is replaced or deleted or
/// the map is freed. <see cref="BpfSystem.MapUpdateElemExpected"/> is the RFC's conditional update.
/// </summary>
/// <remarks>Unlike a prog array, the entries are not cleared when the last user reference goes: the hook
/// attachment is what keeps the chain in use.</remarks>
public sealed class ChainCallMap : BpfMap
{
    /// <summary>
    /// The longest chain a packet follows: after the first program, at most this many lookups that find a next
    /// program (MAX_TAIL_CALL_CNT, the tail-call limit); then the last action is returned.
    /// </summary>
    public const int MaxChainCalls = 33;

    private readonly Dictionary<ulong, BpfProgram> _entries = [];

    internal ChainCallMap(BpfSystem system, MapSpec spec) : base(system, spec)
    {
    }

    public override int SyscallValueSize => 4;

    public override int Count => _entries.Count;

    /// <summary>key_size 8, value_size 4 (a program fd/id), max_entries ≥ 1, no flags.</summary>
    internal static BpfResult CheckSpec(MapSpec spec)
    {
        if (spec.KeySize != ChainCallKey.Size || spec.ValueSize != 4 || spec.MaxEntries == 0)
        {
            return BpfResult.Fail(Errno.EINVAL, "a chain-call map needs key_size 8 ({prog id, action}), value_size 4 and max_entries > 0");
        }
        return spec.Flags == MapFlags.None ? BpfResult.Ok : BpfResult.Fail(Errno.EINVAL, "a chain-call map takes no map flags");
    }

    /// <summary>The program under <paramref name="key"/>, or null.</summary>
    public BpfProgram? Get(ChainCallKey key) => _entries.GetValueOrDefault(key.Packed);

    /// <summary>The entries in key order (for dumps and checks).</summary>
    public IEnumerable<KeyValuePair<ChainCallKey, BpfProgram>> Entries =>
        _entries.OrderBy(e => e.Key).Select(e => KeyValuePair.Create(ChainCallKey.FromPacked(e.Key), e.Value));

    /// <summary>
    /// Runs the chain on a packet for the XDP hook of <paramref name="dev"/>. Returns the last program's action, or
    /// XDP_PASS when {0, 0} is empty. Allocates nothing.
    /// </summary>
    internal int Run(NetDevice dev, ref PacketContext ctx)
    {
        var observer = dev.System.PacketObserver;
        observer?.OnChainLookup(dev);
        if (!_entries.TryGetValue(0, out var prog))
        {
            return (int)XdpAction.Pass;
        }
        int ret = PacketRun.Run(dev, prog, ref ctx);
        for (int calls = 0; calls < MaxChainCalls; calls++)
        {
            dev.System.PacketObserver?.OnChainLookup(dev);
            if (!_entries.TryGetValue(((ulong)prog.Id << 32) | (uint)ret, out var next))
            {
                return ret;
            }
            prog = next;
            ret = PacketRun.Run(dev, prog, ref ctx);
        }
        return ret;
    }

    private static readonly BpfResult s_missing = BpfResult.Fail(Errno.ENOENT, "no entry for this {prog id, action}");

    internal override BpfResult SysLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!_entries.TryGetValue(ChainCallKey.Read(key).Packed, out var prog))
        {
            return s_missing;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(value, prog.Id);
        return BpfResult.Ok;
    }

    internal override BpfResult SysUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller) =>
        Update(ChainCallKey.Read(key), value, flags, caller, expected: null, checkExpected: false);

    /// <summary>
    /// The update of an entry: BPF_ANY/NOEXIST/EXIST as a hash map, and with <paramref name="checkExpected"/> the RFC's
    /// conditional form: the entry must hold <paramref name="expected"/> now (null: must be absent), else EAGAIN.
    /// </summary>
    internal BpfResult Update(ChainCallKey key, ReadOnlySpan<byte> value, ulong flags, BpfProcess caller, BpfProgram? expected, bool checkExpected)
    {
        if (flags > UpdateFlags.Exist)
        {
            return BpfResult.Fail(Errno.EINVAL, "flags must be BPF_ANY, BPF_NOEXIST or BPF_EXIST");
        }
        int fd = BinaryPrimitives.ReadInt32LittleEndian(value);
        var r = ResolveXdpProgram(caller, fd, out var prog);
        if (!r.IsOk)
        {
            return r;
        }
        bool exists = _entries.TryGetValue(key.Packed, out var current);
        if (checkExpected && !ReferenceEquals(current, expected))
        {
            return BpfResult.Fail(Errno.EAGAIN, exists
                ? $"entry {{{key.ProgId}, {key.Action}}} holds prog id {current!.Id}, not the expected one"
                : $"entry {{{key.ProgId}, {key.Action}}} is empty, not the expected program");
        }
        if (flags == UpdateFlags.NoExist && exists)
        {
            return BpfResult.Fail(Errno.EEXIST, "key already exists and flags is BPF_NOEXIST");
        }
        if (flags == UpdateFlags.Exist && !exists)
        {
            return BpfResult.Fail(Errno.ENOENT, "key does not exist and flags is BPF_EXIST");
        }
        if (!exists && _entries.Count >= MaxEntries)
        {
            return BpfResult.Fail(Errno.E2BIG, "map is full");
        }
        prog.Inc();
        _entries[key.Packed] = prog;
        current?.Put();
        return BpfResult.Ok;
    }

    internal override BpfResult SysDelete(ReadOnlySpan<byte> key) => Delete(ChainCallKey.Read(key), expected: null, checkExpected: false);

    /// <summary>Deletes an entry, dropping its program reference; conditional on <paramref name="expected"/> like <see cref="Update"/>.</summary>
    internal BpfResult Delete(ChainCallKey key, BpfProgram? expected, bool checkExpected)
    {
        if (!_entries.TryGetValue(key.Packed, out var current))
        {
            return checkExpected && expected is not null
                ? BpfResult.Fail(Errno.EAGAIN, $"entry {{{key.ProgId}, {key.Action}}} is empty, not the expected program")
                : s_missing;
        }
        if (checkExpected && !ReferenceEquals(current, expected))
        {
            return BpfResult.Fail(Errno.EAGAIN, $"entry {{{key.ProgId}, {key.Action}}} holds prog id {current.Id}, not the expected one");
        }
        _entries.Remove(key.Packed);
        current.Put();
        return BpfResult.Ok;
    }

    internal override BpfResult GetNextKey(ReadOnlySpan<byte> key, Span<byte> next)
    {
        // Key order (a deterministic stand-in for the hash order): the smallest key above the given one; a missing or
        // empty key starts from the first.
        bool start = key.IsEmpty || !_entries.ContainsKey(ChainCallKey.Read(key).Packed);
        ulong after = start ? 0 : ChainCallKey.Read(key).Packed;
        bool found = false;
        ulong best = ulong.MaxValue;
        foreach (ulong k in _entries.Keys)
        {
            if ((start || k > after) && k <= best)
            {
                best = k;
                found = true;
            }
        }
        if (!found)
        {
            return BpfResult.Fail(Errno.ENOENT, "no next key");
        }
        ChainCallKey.FromPacked(best).Write(next);
        return BpfResult.Ok;
    }

    internal static BpfResult ResolveXdpProgram(BpfProcess caller, int fd, out BpfProgram prog)
    {
        prog = null!;
        switch (caller.Get(fd))
        {
            case null:
                return BpfResult.Fail(Errno.EBADF, $"value fd {fd} is not open");
            case BpfProgram { Type: ProgramType.Xdp } p:
                prog = p;
                return BpfResult.Ok;
            default:
                return BpfResult.Fail(Errno.EINVAL, $"value fd {fd} is not an XDP program");
        }
    }

    private static InvalidOperationException NotFromPrograms() =>
        new("the verifier rejects map helpers on a chain-call map: only the XDP hook reads it");

    private protected override Span<byte> ProgLookup(ReadOnlySpan<byte> key, int cpu) => throw NotFromPrograms();

    private protected override Errno ProgUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => throw NotFromPrograms();

    private protected override Errno ProgDelete(ReadOnlySpan<byte> key) => throw NotFromPrograms();

    private protected override void OnFree()
    {
        foreach (var prog in _entries.Values)
        {
            prog.Put();
        }
        _entries.Clear();
    }
}
