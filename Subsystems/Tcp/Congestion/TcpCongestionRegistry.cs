using BpfSim.Core.Bpf;
using BpfSim.Core.Cpus;

namespace BpfSim.Tcp.Congestion;

/// <summary>
/// The list of available algorithms and the rules of net/ipv4/tcp_cong.c: registration validates the required
/// members and rejects duplicate names, update swaps an implementation under the same name (new sockets only), the
/// default is a pinned algorithm, and unregister and update wait for a grace period before returning.
/// </summary>
public sealed class TcpCongestionRegistry
{
    /// <summary>TCP_CA_NAME_MAX: 16 bytes including the NUL.</summary>
    public const int NameMax = 16;

    private readonly List<TcpCongestionOps> _list = [];
    private readonly Rcu? _rcu;

    /// <summary>A registry holding the built-ins reno, cubic, dctcp and bbr, in that order, with cubic the default.</summary>
    /// <param name="rcu">Where unregister and update wait for readers (synchronize_rcu); null for a registry without a kernel.</param>
    public TcpCongestionRegistry(Rcu? rcu = null)
    {
        _rcu = rcu;
        Register(Reno.Ops).ThrowIfFailed();
        Register(Cubic.Ops).ThrowIfFailed();
        Register(Dctcp.Ops).ThrowIfFailed();
        Register(Bbr.Ops).ThrowIfFailed();
        // CONFIG_DEFAULT_TCP_CONG="cubic", the kernel's default default. Built-ins need no pin.
        Default = Cubic.Ops;
    }

    /// <summary>Algorithms in list order (tcp_available_congestion_control).</summary>
    public IReadOnlyList<TcpCongestionOps> Available => _list;

    /// <summary>net.ipv4.tcp_congestion_control: the algorithm new sockets get, pinned while it is the default.</summary>
    public TcpCongestionOps Default { get; private set; }

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

    /// <summary>
    /// tcp_unregister_congestion_control: new sockets can no longer choose it; existing ones (and the default, if it
    /// is the default) keep it. Waits for a grace period, as the kernel does before the module may go.
    /// </summary>
    public void Unregister(TcpCongestionOps ca)
    {
        _list.Remove(ca);
        _rcu?.Synchronize();
    }

    /// <summary>
    /// tcp_update_congestion_control: <paramref name="ca"/> replaces <paramref name="old"/>, which must be the one
    /// registered under the same name. The new entry is appended before the old one leaves, so the name never
    /// disappears; then a grace period passes.
    /// </summary>
    public BpfResult Update(TcpCongestionOps ca, TcpCongestionOps old)
    {
        var r = Validate(ca);
        if (!r.IsOk)
        {
            return r;
        }
        if (ca.Name != old.Name || !_list.Contains(old))
        {
            return BpfResult.Fail(Errno.EINVAL, $"cannot replace {old.Name} by {ca.Name}: names differ or {old.Name} is not registered");
        }
        _list.Add(ca);
        _list.Remove(old);
        _rcu?.Synchronize();
        return BpfResult.Ok;
    }

    /// <summary>
    /// tcp_set_default_congestion_control: pins <paramref name="name"/> as the default and lets the previous one go.
    /// </summary>
    /// <returns>ENOENT unknown name; EBUSY it cannot be pinned.</returns>
    public BpfResult SetDefault(string name)
    {
        var r = TryAcquire(name, out var ca);
        if (!r.IsOk)
        {
            return r;
        }
        var previous = Default;
        Default = ca;
        Release(previous);
        return BpfResult.Ok;
    }

    /// <summary>bpf_try_module_get: pins a BPF algorithm for one more socket; a built-in always succeeds.</summary>
    public static bool TryAcquire(TcpCongestionOps ca) => ca.Owner?.TryGet() ?? true;

    /// <summary>bpf_module_put: the socket no longer uses the algorithm.</summary>
    public static void Release(TcpCongestionOps ca) => ca.Owner?.Put();

    /// <summary>
    /// tcp_assign_congestion_control: the default algorithm, pinned for a new socket; if it cannot be pinned, reno,
    /// as the kernel falls back.
    /// </summary>
    public TcpCongestionOps AssignDefault() => TryAcquire(Default) ? Default : Reno.Ops;

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
