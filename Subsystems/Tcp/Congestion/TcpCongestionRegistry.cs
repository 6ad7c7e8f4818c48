using BpfSim.Core.Bpf;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// The list of available algorithms and the rules of net/ipv4/tcp_cong.c: registration validates the required
/// members and rejects duplicate names, update swaps an implementation under the same name (new sockets only), and a
/// socket that cannot pin its algorithm falls back to reno.
/// </summary>
public sealed class TcpCongestionRegistry
{
    /// <summary>TCP_CA_NAME_MAX: 16 bytes including the NUL.</summary>
    public const int NameMax = 16;

    private readonly List<TcpCongestionOps> _list = [];

    public TcpCongestionRegistry()
    {
        Register(Reno.Ops).ThrowIfFailed();
        DefaultName = Reno.Ops.Name;
    }

    /// <summary>Algorithms in registration order (tcp_available_congestion_control).</summary>
    public IReadOnlyList<TcpCongestionOps> Available => _list;

    /// <summary>net.ipv4.tcp_congestion_control: what new sockets get.</summary>
    public string DefaultName { get; set; }

    /// <summary>tcp_ca_find: simple linear search; there are few entries.</summary>
    public TcpCongestionOps? Find(string name) => _list.FirstOrDefault(ca => ca.Name == name);

    /// <summary>tcp_validate_congestion_control: ssthresh, undo_cwnd and one of cong_avoid / cong_control.</summary>
    public static BpfResult Validate(TcpCongestionOps ca)
    {
        if (ca.Ssthresh is null || ca.UndoCwnd is null || (ca.CongAvoid is null && ca.CongControl is null))
        {
            return BpfResult.Fail(Errno.EINVAL, $"{ca.Name} does not implement required ops (ssthresh, undo_cwnd, and cong_avoid or cong_control)");
        }
        return BpfResult.Ok;
    }

    /// <summary>tcp_register_congestion_control.</summary>
    /// <returns>EINVAL missing required ops; EEXIST a name already registered.</returns>
    public BpfResult Register(TcpCongestionOps ca)
    {
        var r = Validate(ca);
        if (!r.IsOk)
        {
            return r;
        }
        if (Find(ca.Name) is not null)
        {
            return BpfResult.Fail(Errno.EEXIST, $"{ca.Name} already registered");
        }
        _list.Add(ca);
        return BpfResult.Ok;
    }

    /// <summary>tcp_unregister_congestion_control: new sockets can no longer choose it; existing ones keep it.</summary>
    public void Unregister(TcpCongestionOps ca) => _list.Remove(ca);

    /// <summary>
    /// tcp_update_congestion_control: <paramref name="ca"/> replaces <paramref name="old"/>, which must be the one
    /// registered under the same name. The new entry goes in before the old one leaves, so the name never disappears.
    /// </summary>
    public BpfResult Update(TcpCongestionOps ca, TcpCongestionOps old)
    {
        var r = Validate(ca);
        if (!r.IsOk)
        {
            return r;
        }
        int index = _list.IndexOf(old);
        if (ca.Name != old.Name || index < 0)
        {
            return BpfResult.Fail(Errno.EINVAL, $"cannot replace {old.Name} by {ca.Name}: names differ or {old.Name} is not registered");
        }
        _list[index] = ca;
        return BpfResult.Ok;
    }

    /// <summary>bpf_try_module_get: pins a BPF algorithm for one more socket; a built-in always succeeds.</summary>
    public static bool TryAcquire(TcpCongestionOps ca) => ca.Owner?.TryGet() ?? true;

    /// <summary>bpf_module_put: the socket no longer uses the algorithm.</summary>
    public static void Release(TcpCongestionOps ca) => ca.Owner?.Put();

    /// <summary>
    /// tcp_assign_congestion_control: the default algorithm, pinned for a new socket; if it cannot be pinned (or is
    /// gone), reno, as the kernel falls back.
    /// </summary>
    public TcpCongestionOps AssignDefault()
    {
        var ca = Find(DefaultName);
        return ca is not null && TryAcquire(ca) ? ca : Reno.Ops;
    }

    /// <summary>setsockopt(TCP_CONGESTION): pins <paramref name="name"/> for a socket.</summary>
    /// <returns>ENOENT unknown name; EBUSY the algorithm is going away and cannot be pinned.</returns>
    public BpfResult TryAcquire(string name, out TcpCongestionOps ca)
    {
        ca = Find(name)!;
        if (ca is null)
        {
            return BpfResult.Fail(Errno.ENOENT, $"no congestion control called '{name}'");
        }
        return TryAcquire(ca) ? BpfResult.Ok : BpfResult.Fail(Errno.EBUSY, $"{name} is being unregistered");
    }
}
