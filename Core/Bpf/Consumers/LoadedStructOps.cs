using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// A consumer loaded into a <see cref="BpfSystem"/>: its programs, its struct_ops map and, in link mode, its link,
/// each held by an fd of the process that loaded it. Disposing closes those fds; a plain map's registration survives
/// that (as in the kernel) until <see cref="Unregister"/>.
/// </summary>
public sealed class LoadedStructOps : IDisposable
{
    private readonly BpfSystem _bpf;
    private readonly BpfProcess _process;
    private bool _disposed;

    internal LoadedStructOps(BpfSystem bpf, BpfProcess process, string name, StructOpsMap map, int mapFd, IReadOnlyList<int> programFds)
    {
        _bpf = bpf;
        _process = process;
        Name = name;
        Map = map;
        MapFd = mapFd;
        ProgramFds = programFds;
    }

    public string Name { get; }
    public StructOpsMap Map { get; }
    public int MapFd { get; }
    public int LinkFd { get; internal set; } = -1;
    public IReadOnlyList<int> ProgramFds { get; }

    /// <summary>Registers the map: update of key 0 (plain maps) or a new link (link mode).</summary>
    public BpfResult Register() => WithCaller(() => Map.IsLinkMode ? RegisterLink() : _bpf.MapUpdateElem(MapFd, new byte[4], PendingValue));

    private BpfResult RegisterLink()
    {
        var r = PopulateLinkMap();
        if (!r.IsOk)
        {
            return r;
        }
        r = _bpf.LinkCreate(MapFd, out int linkFd);
        if (r.IsOk)
        {
            LinkFd = linkFd;
        }
        return r;
    }

    /// <summary>
    /// A link update: populates this (link-mode) consumer's map and swaps it into <paramref name="current"/>'s link
    /// (BPF_LINK_UPDATE); the link now belongs to this consumer, and <paramref name="current"/>'s map stays READY.
    /// </summary>
    /// <returns>EINVAL if either is not in link mode or <paramref name="current"/> has no link; LinkUpdate's errors.</returns>
    public BpfResult ReplaceLinkOf(LoadedStructOps current)
    {
        if (!Map.IsLinkMode || current.LinkFd < 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"{Name} replacing {current.Name}: both must be link-mode consumers and {current.Name} must be linked")
                .For(BpfCommand.LinkUpdate);
        }
        return WithCaller(() =>
        {
            var r = PopulateLinkMap();
            if (r.IsOk)
            {
                r = _bpf.LinkUpdate(current.LinkFd, MapFd);
            }
            if (r.IsOk)
            {
                LinkFd = current.LinkFd;
                current.LinkFd = -1;
            }
            return r;
        });
    }

    /// <summary>Unregisters: delete of key 0 (plain maps) or detach of the link (link mode).</summary>
    public BpfResult Unregister() => WithCaller(() => LinkFd >= 0 ? _bpf.LinkDetach(LinkFd)
        : Map.IsLinkMode ? BpfResult.Fail(Errno.ENOLINK, $"{Name} is not linked (it may have been replaced)").For(BpfCommand.LinkDetach)
        : _bpf.MapDeleteElem(MapFd, new byte[4]));

    internal byte[] PendingValue { get; set; } = [];

    /// <summary>
    /// Sets a scalar data member of the struct_ops value before <see cref="Register"/>, as a loader writes
    /// <c>skel-&gt;struct_ops.ops-&gt;member</c> between open and load (scx's SCX_OPS_OPEN sets hotplug_seq so).
    /// </summary>
    /// <returns>False when the type has no u32/u64 member of that name or the value is no longer pending (registered).</returns>
    public bool SetPendingMember(string member, ulong value)
    {
        if (Map.State != StructOpsState.Init || PendingValue.Length == 0 || Map.StructOpsType.FindMember(member) is not { } m)
        {
            return false;
        }
        var span = PendingValue.AsSpan(StructOpsType.DataOffset + m.Offset);
        switch (m.Kind)
        {
            case StructOpsMemberKind.U64:
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span, value);
                return true;
            case StructOpsMemberKind.U32:
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value);
                return true;
            default:
                return false;
        }
    }

    // A link-mode map is populated once (INIT → READY); after that, creating or updating links reuses it.
    private BpfResult PopulateLinkMap() =>
        Map.State == StructOpsState.Init ? _bpf.MapUpdateElem(MapFd, new byte[4], PendingValue) : BpfResult.Ok;

    private BpfResult WithCaller(Func<BpfResult> action)
    {
        var previous = _bpf.Caller;
        _bpf.Caller = _process;
        try
        {
            return action();
        }
        finally
        {
            _bpf.Caller = previous;
        }
    }

    /// <summary>Closes the fds of the link, the map and the programs.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        WithCaller(() =>
        {
            if (LinkFd >= 0)
            {
                _bpf.Close(LinkFd);
            }
            _bpf.Close(MapFd);
            foreach (int fd in ProgramFds)
            {
                _bpf.Close(fd);
            }
            return BpfResult.Ok;
        });
    }
}
