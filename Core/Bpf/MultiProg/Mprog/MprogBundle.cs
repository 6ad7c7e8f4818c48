using BpfSim.Core.Bpf.Links;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.MultiProg.Mprog;

/// <summary>
/// A bpf_mprog bundle (kernel/bpf/mprog.c, include/linux/bpf_mprog.h): up to <see cref="MaxPrograms"/> programs in
/// order, each owned by a link or attached directly, and a revision for compare-and-swap. The programs the run loop
/// reads live in one of two arrays (entry a/b): insert and delete fill the peer array and publish it, replace writes
/// the live array in place. Positions follow bpf_mprog_attach / bpf_mprog_detach; errors are returned as negative
/// errno values, as the kernel's functions do, and turned into results by <see cref="BpfSystem"/>.
/// </summary>
public sealed class MprogBundle
{
    /// <summary>BPF_MPROG_MAX: array slots, one of which stays the NULL terminator.</summary>
    public const int Slots = 64;

    /// <summary>bpf_mprog_max(): at most 63 programs.</summary>
    public const int MaxPrograms = Slots - 1;

    private const int Unset = -(int)Errno.ERANGE;

    private readonly BpfProgram?[] _a = new BpfProgram?[Slots];
    private readonly BpfProgram?[] _b = new BpfProgram?[Slots];
    private readonly BpfLink?[] _links = new BpfLink?[Slots];
    private BpfProgram?[] _live;
    private int _count;

    public MprogBundle()
    {
        _live = _a;
        Revision = 1;
    }

    /// <summary>bpf_mprog_revision: 1 for a new bundle, +1 on every committed attach, detach or replace.</summary>
    public ulong Revision { get; private set; }

    /// <summary>bpf_mprog_total.</summary>
    public int Count => _count;

    /// <summary>The array the run loop reads, NULL-terminated (the live bpf_mprog_entry's fp_items).</summary>
    internal BpfProgram?[] Live => _live;

    /// <summary>The program at <paramref name="index"/> and the link that owns it.</summary>
    public MprogTuple this[int index] =>
        (uint)index < (uint)_count ? new MprogTuple(_live[index], _links[index]) : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>bpf_mprog_exists.</summary>
    public bool Contains(BpfProgram prog) => IndexOf(prog) >= 0;

    private int IndexOf(BpfProgram prog)
    {
        for (int i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_live[i], prog))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>bpf_mprog_pos_exact: the index of <paramref name="t"/>; -EBUSY if owned differently, -ENOENT if absent.</summary>
    private int PosExact(MprogTuple t)
    {
        for (int i = 0; i < _count; i++)
        {
            if (ReferenceEquals(t.Prog, _live[i]))
            {
                return ReferenceEquals(t.Link, _links[i]) ? i : -(int)Errno.EBUSY;
            }
        }
        return -(int)Errno.ENOENT;
    }

    private bool Matches(MprogTuple t, int i) =>
        ReferenceEquals(t.Prog, _live[i]) && (t.Link is null || ReferenceEquals(t.Link, _links[i]));

    /// <summary>bpf_mprog_pos_before: the index before the relative object; -1 (front) without one.</summary>
    private int PosBefore(MprogTuple t)
    {
        for (int i = 0; i < _count; i++)
        {
            if (Matches(t, i))
            {
                return i - 1;
            }
        }
        return t.Prog is not null ? -(int)Errno.ENOENT : -1;
    }

    /// <summary>bpf_mprog_pos_after: the index after the relative object; the end without one.</summary>
    private int PosAfter(MprogTuple t)
    {
        for (int i = 0; i < _count; i++)
        {
            if (Matches(t, i))
            {
                return i + 1;
            }
        }
        return t.Prog is not null ? -(int)Errno.ENOENT : _count;
    }

    /// <summary>
    /// The position rules shared by attach and detach (BEFORE and AFTER must agree with each other and with an exact
    /// position; no rule: the end). Returns the index or a negative errno.
    /// </summary>
    private int Position(int idx, ref MprogFlags flags, MprogTuple relative)
    {
        if ((flags & MprogFlags.Before) != 0)
        {
            int t = PosBefore(relative);
            if (t < -1 || (idx >= -1 && t != idx))
            {
                return t < -1 ? t : -(int)Errno.ERANGE;
            }
            idx = t;
        }
        if ((flags & MprogFlags.After) != 0)
        {
            int t = PosAfter(relative);
            if (t < -1 || (idx >= -1 && t != idx))
            {
                return t < 0 ? t : -(int)Errno.ERANGE;
            }
            idx = t;
        }
        if (idx < -1)
        {
            if (relative.Prog is not null || flags != MprogFlags.None)
            {
                return -(int)Errno.EINVAL;
            }
            idx = _count;
            flags = MprogFlags.After;
        }
        return idx >= MaxPrograms ? -(int)Errno.ERANGE : idx;
    }

    /// <summary>
    /// bpf_mprog_attach after the revision and EEXIST checks and the relative lookup: places <paramref name="next"/>
    /// (a program, with the link that owns it) by REPLACE of <paramref name="old"/>, BEFORE/AFTER
    /// <paramref name="relative"/>, or at the end. Returns 0, or a negative errno with the bundle unchanged.
    /// <paramref name="published"/> is true when a new array was published (insert), false for a replace in place.
    /// </summary>
    internal int Attach(MprogTuple next, BpfProgram? old, MprogFlags flags, MprogTuple relative, out bool published)
    {
        published = false;
        int idx = Unset;
        if ((flags & MprogFlags.Replace) != 0)
        {
            int t = PosExact(new MprogTuple(old, next.Link));
            if (t < 0)
            {
                return t;
            }
            idx = t;
        }
        else if (_count == MaxPrograms)
        {
            return -(int)Errno.ERANGE;
        }
        idx = Position(idx, ref flags, relative);
        if (idx < -1)
        {
            return idx;
        }
        if ((flags & MprogFlags.Replace) != 0)
        {
            // bpf_mprog_replace: WRITE_ONCE of the program pointer in the live array; the old prog's reference (if not
            // a link's) is the caller's to drop.
            _live[idx] = next.Prog;
            _links[idx] = next.Link;
        }
        else
        {
            Insert(next, (flags & MprogFlags.Before) != 0 && idx != _count ? idx + 1 : idx);
            published = true;
        }
        Revision++;
        return 0;
    }

    /// <summary>
    /// bpf_mprog_detach after the relative lookup: the entry of <paramref name="target"/> (a program, with its link when
    /// detaching a link) or the one BEFORE/AFTER selects, or the last. Returns 0 and the removed tuple, or a negative errno.
    /// </summary>
    internal int Detach(MprogTuple target, MprogFlags flags, MprogTuple relative, out MprogTuple removed)
    {
        removed = default;
        int idx = Unset;
        if (target.Prog is not null)
        {
            int t = PosExact(target);
            if (t < 0)
            {
                return t;
            }
            idx = t;
        }
        idx = Position(idx, ref flags, relative);
        if (idx < -1)
        {
            return idx;
        }
        // bpf_mprog_fetch: the front/back adjustments, and a link's entry cannot go through the prog-detach path.
        idx = idx == -1 ? 0 : idx == _count ? _count - 1 : idx;
        if (_links[idx] is not null && target.Link is null)
        {
            return -(int)Errno.EBUSY;
        }
        removed = new MprogTuple(_live[idx], _links[idx]);
        Delete(idx);
        Revision++;
        return 0;
    }

    /// <summary>bpf_mprog_insert: copy the live array to the peer with a gap at <paramref name="idx"/>, fill it, publish.</summary>
    private void Insert(MprogTuple t, int idx)
    {
        var peer = ReferenceEquals(_live, _a) ? _b : _a;
        Array.Copy(_live, 0, peer, 0, idx);
        Array.Copy(_live, idx, peer, idx + 1, _count - idx);
        Array.Copy(_links, idx, _links, idx + 1, _count - idx);
        peer[idx] = t.Prog;
        _links[idx] = t.Link;
        _count++;
        peer[_count] = null;
        _live = peer;
    }

    /// <summary>bpf_mprog_delete: copy the live array to the peer without <paramref name="idx"/>, publish.</summary>
    private void Delete(int idx)
    {
        var peer = ReferenceEquals(_live, _a) ? _b : _a;
        Array.Copy(_live, 0, peer, 0, idx);
        Array.Copy(_live, idx + 1, peer, idx, _count - idx - 1);
        Array.Copy(_links, idx + 1, _links, idx, _count - idx - 1);
        _count--;
        peer[_count] = null;
        _links[_count] = null;
        _live = peer;
    }
}
