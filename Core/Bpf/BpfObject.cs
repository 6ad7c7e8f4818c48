using System.Diagnostics;

namespace BpfSim.Core.Bpf;

/// <summary>
/// A reference-counted kernel object with an id. When the last reference goes, its id is released at once and the
/// object is freed, possibly after an RCU grace period (kernel/bpf/syscall.c: <c>bpf_map_put</c> frees the id first
/// and defers the free).
/// </summary>
public abstract class BpfObject
{
    private long _refCount = 1;

    private protected BpfObject(BpfSystem system, BpfObjectKind kind)
    {
        System = system;
        Kind = kind;
        Id = system.Objects.Allocate(this);
    }

    /// <summary>The runtime that owns the object.</summary>
    public BpfSystem System { get; }

    public BpfObjectKind Kind { get; }

    /// <summary>The object id (map id, prog id, link id), unique within its kind while the object lives.</summary>
    public uint Id { get; }

    /// <summary>All references: fds, pins, programs, outer maps, registrations, links, users.</summary>
    public long RefCount => _refCount;

    /// <summary>True once the id has been released (no new reference can be taken by id).</summary>
    public bool IsDead => _refCount == 0;

    /// <summary>True once the memory is gone; any use after this is a use-after-free in the simulated kernel.</summary>
    public bool IsFreed { get; private set; }

    /// <summary>Set to make the final free wait one RCU grace period (the kernel's <c>free_after_rcu_gp</c>).</summary>
    internal bool FreeAfterGracePeriod { get; set; }

    /// <summary>Takes a reference (bpf_map_inc).</summary>
    /// <exception cref="InvalidOperationException">The object is already dead: a reference may not be revived.</exception>
    public void Inc()
    {
        if (_refCount <= 0)
        {
            throw new InvalidOperationException($"{Kind} id {Id}: reference taken on a dead object");
        }
        _refCount++;
        OnRefCountChanged();
    }

    /// <summary>Takes a reference only if the object is still alive (bpf_map_inc_not_zero / refcount_inc_not_zero).</summary>
    public bool TryInc()
    {
        if (_refCount <= 0)
        {
            return false;
        }
        _refCount++;
        OnRefCountChanged();
        return true;
    }

    /// <summary>Drops a reference (bpf_map_put); the last one releases the id and frees the object.</summary>
    public void Put()
    {
        if (_refCount <= 0)
        {
            throw new InvalidOperationException($"{Kind} id {Id}: reference dropped below zero");
        }
        --_refCount;
        OnRefCountChanged();
        if (_refCount > 0)
        {
            return;
        }
        System.Objects.Release(this);
        OnDead();
        if (FreeAfterGracePeriod)
        {
            System.Rcu.CallRcu(FreeNow);
        }
        else
        {
            FreeNow();
        }
    }

    private void FreeNow()
    {
        Debug.Assert(!IsFreed);
        IsFreed = true;
        OnFree();
        System.NotifyFreed(this);
    }

    /// <summary>Called after every change of <see cref="RefCount"/>.</summary>
    private protected virtual void OnRefCountChanged()
    {
    }

    /// <summary>Called when the last reference goes, before any grace period.</summary>
    private protected virtual void OnDead()
    {
    }

    /// <summary>Releases what the object holds (inner maps, programs).</summary>
    private protected virtual void OnFree()
    {
    }
}
