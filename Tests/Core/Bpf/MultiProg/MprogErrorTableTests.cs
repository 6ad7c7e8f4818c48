using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Tests.Core.Bpf.Net;

namespace BpfSim.Tests.Core.Bpf.MultiProg;

/// <summary>
/// The bpf_mprog attach/detach error table (kernel/bpf/mprog.c bpf_mprog_attach/detach, kernel/bpf/tcx.c), one row per
/// rule in the kernel's check order. Every row starts from tcx ingress holding A then B (revision 3), with C loaded
/// but not attached and X an XDP program.
/// </summary>
[Category("Core")]
public sealed class MprogErrorTableTests
{
    public sealed class Fixture
    {
        public readonly PacketRig Rig = new(syncRcu: false);
        public readonly int A, B, C, X;

        public Fixture()
        {
            A = Rig.Tc("A");
            B = Rig.Tc("B");
            C = Rig.Tc("C");
            X = Rig.Xdp("X");
            Rig.Bpf.ProgAttach(1, A, MprogFlags.None, 0, 0).ThrowIfFailed();
            Rig.Bpf.ProgAttach(1, B, MprogFlags.None, 0, 0).ThrowIfFailed();
        }

        public uint Id(int fd) => Rig.Prog(fd).Id;
    }

    public sealed record Row(string Name, Func<Fixture, BpfResult> Call, Errno Expected)
    {
        public override string ToString() => Name;
    }

    private static IEnumerable<Row> AttachRows()
    {
        yield return new("unknown flag", f => f.Rig.Bpf.ProgAttach(1, f.C, (MprogFlags)(1u << 1), 0, 0), Errno.EINVAL);
        yield return new("xdp program", f => f.Rig.Bpf.ProgAttach(1, f.X, MprogFlags.None, 0, 0), Errno.EINVAL);
        yield return new("unknown device", f => f.Rig.Bpf.ProgAttach(7, f.C, MprogFlags.None, 0, 0), Errno.ENODEV);
        yield return new("stale revision", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.None, 0, 2), Errno.ESTALE);
        yield return new("stale beats exists", f => f.Rig.Bpf.ProgAttach(1, f.A, MprogFlags.None, 0, 1), Errno.ESTALE);
        yield return new("already attached", f => f.Rig.Bpf.ProgAttach(1, f.A, MprogFlags.None, 0, 3), Errno.EEXIST);
        yield return new("relative fd not open", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before, 99, 0), Errno.EBADF);
        yield return new("relative id unknown", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before | MprogFlags.Id, 999, 0), Errno.ENOENT);
        yield return new("relative of another type", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before, (uint)f.X, 0), Errno.EINVAL);
        yield return new("BPF_F_LINK without a link", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before | MprogFlags.Link, 0, 0), Errno.EINVAL);
        yield return new("BPF_F_LINK naming a program", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before | MprogFlags.Link, (uint)f.A, 0), Errno.EINVAL);
        yield return new("replace fd of another type", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Replace, 0, 0, replaceProgFd: f.X), Errno.EINVAL);
        yield return new("replace not attached", f =>
        {
            int d = f.Rig.Tc("D");
            return f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Replace, 0, 0, replaceProgFd: d);
        }, Errno.ENOENT);
        yield return new("replace a link's program", f =>
        {
            int d = f.Rig.Tc("D");
            f.Rig.Bpf.TcxLinkCreate(d, 1, MprogFlags.None, 0, 0, out _).ThrowIfFailed();
            return f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Replace, 0, 0, replaceProgFd: d);
        }, Errno.EBUSY);
        yield return new("before and after disagree", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before | MprogFlags.After, (uint)f.A, 0), Errno.ERANGE);
        yield return new("replace A, after B", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Replace | MprogFlags.After, (uint)f.B, 0, replaceProgFd: f.A), Errno.ERANGE);
        yield return new("replace A, before B (the positions agree)", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Replace | MprogFlags.Before, (uint)f.B, 0, replaceProgFd: f.A), Errno.None);
        yield return new("before a program not attached", f =>
        {
            int d = f.Rig.Tc("D");
            return f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before, (uint)d, 0);
        }, Errno.ENOENT);
        yield return new("after a program not attached", f =>
        {
            int d = f.Rig.Tc("D");
            return f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.After, (uint)d, 0);
        }, Errno.ENOENT);
        yield return new("relative without before/after", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.None, (uint)f.A, 0), Errno.EINVAL);
        yield return new("ID flag alone", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Id, f.Id(f.A), 0), Errno.EINVAL);
        yield return new("current revision", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.None, 0, 3), Errno.None);
        yield return new("before A by id", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before | MprogFlags.Id, f.Id(f.A), 0), Errno.None);
        yield return new("before and after the same program", f => f.Rig.Bpf.ProgAttach(1, f.C, MprogFlags.Before | MprogFlags.After | MprogFlags.Id, f.Id(f.B), 0), Errno.ERANGE);
    }

    private static IEnumerable<Row> DetachRows()
    {
        yield return new("unknown flag", f => f.Rig.Bpf.ProgDetach(1, f.A, (MprogFlags)(1u << 0), 0, 0), Errno.EINVAL);
        yield return new("replace flag", f => f.Rig.Bpf.ProgDetach(1, f.A, MprogFlags.Replace, 0, 0), Errno.EINVAL);
        yield return new("stale revision", f => f.Rig.Bpf.ProgDetach(1, f.A, MprogFlags.None, 0, 1), Errno.ESTALE);
        yield return new("not attached", f => f.Rig.Bpf.ProgDetach(1, f.C, MprogFlags.None, 0, 0), Errno.ENOENT);
        yield return new("xdp program", f => f.Rig.Bpf.ProgDetach(1, f.X, MprogFlags.None, 0, 0), Errno.EINVAL);
        yield return new("A but before A", f => f.Rig.Bpf.ProgDetach(1, f.A, MprogFlags.Before, (uint)f.A, 0), Errno.ERANGE);
        yield return new("A is before B", f => f.Rig.Bpf.ProgDetach(1, f.A, MprogFlags.Before, (uint)f.B, 0), Errno.None);
        yield return new("relative without before/after", f => f.Rig.Bpf.ProgDetach(1, 0, MprogFlags.None, (uint)f.A, 0), Errno.EINVAL);
        yield return new("a link's entry", f =>
        {
            int d = f.Rig.Tc("D");
            f.Rig.Bpf.TcxLinkCreate(d, 1, MprogFlags.None, 0, 0, out _).ThrowIfFailed();
            return f.Rig.Bpf.ProgDetach(1, d, MprogFlags.None, 0, 0);
        }, Errno.EBUSY);
        yield return new("the last, a link's, without naming it", f =>
        {
            int d = f.Rig.Tc("D");
            f.Rig.Bpf.TcxLinkCreate(d, 1, MprogFlags.None, 0, 0, out _).ThrowIfFailed();
            return f.Rig.Bpf.ProgDetach(1, 0, MprogFlags.None, 0, 0);
        }, Errno.EBUSY);
        yield return new("no argument: the last", f => f.Rig.Bpf.ProgDetach(1, 0, MprogFlags.None, 0, 3), Errno.None);
    }

    [TestCaseSource(nameof(AttachRows))]
    public void Attach(Row row)
    {
        var f = new Fixture();
        var r = row.Call(f);
        Assert.That(r.Errno, Is.EqualTo(row.Expected), r.Reason);
        if (!r.IsOk && !row.Name.Contains("link", StringComparison.Ordinal))
        {
            Assert.That(f.Rig.Dev.TcxIngress.Revision, Is.EqualTo(3ul), "a failed attach commits nothing");
        }
    }

    [TestCaseSource(nameof(DetachRows))]
    public void Detach(Row row)
    {
        var f = new Fixture();
        var r = row.Call(f);
        Assert.That(r.Errno, Is.EqualTo(row.Expected), r.Reason);
    }

    [Test]
    public void Detach_EmptyHook_ENOENT_EvenWithReplaceFlag()
    {
        var rig = new PacketRig(syncRcu: false);
        int a = rig.Tc("A");
        Assert.That(rig.Bpf.ProgDetach(1, a, MprogFlags.None, 0, 0).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.That(rig.Bpf.ProgDetach(1, a, MprogFlags.Replace, 0, 0).Errno, Is.EqualTo(Errno.ENOENT), "tcx_entry_fetch fails before bpf_mprog_detach looks at flags");
    }

    [Test]
    public void Attach_64th_ERANGE()
    {
        var rig = new PacketRig(syncRcu: false);
        for (int i = 0; i < 63; i++)
        {
            Assert.That(rig.Bpf.ProgAttach(1, rig.Tc($"p{i}"), MprogFlags.None, 0, 0).IsOk, $"program {i}");
        }
        int extra = rig.Tc("extra");
        Assert.That(rig.Bpf.ProgAttach(1, extra, MprogFlags.None, 0, 0).Errno, Is.EqualTo(Errno.ERANGE));
        Assert.That(rig.Bpf.ProgAttach(1, extra, MprogFlags.Before, 0, 0).Errno, Is.EqualTo(Errno.ERANGE));
        Assert.That(rig.Bpf.ProgAttach(1, extra, MprogFlags.Replace, 0, 0, replaceProgFd: 3).IsOk, "replace works on a full bundle");
        Assert.That(rig.Dev.TcxIngress.Count, Is.EqualTo(63));
    }

    /// <summary>
    /// bpf_mprog_detach: with no program and no position the index is bpf_mprog_total(), and the
    /// <c>idx &gt;= bpf_mprog_max()</c> check runs before bpf_mprog_fetch clamps it, so a full bundle answers ERANGE.
    /// </summary>
    [Test]
    public void Detach_FullBundleWithoutArgument_ERANGE_AsBpfMprogDetach()
    {
        var rig = new PacketRig(syncRcu: false);
        var fds = Enumerable.Range(0, 63).Select(i => rig.Tc($"p{i}")).ToArray();
        foreach (int fd in fds)
        {
            rig.Bpf.ProgAttach(1, fd, MprogFlags.None, 0, 0).ThrowIfFailed();
        }
        Assert.That(rig.Bpf.ProgDetach(1, 0, MprogFlags.None, 0, 0).Errno, Is.EqualTo(Errno.ERANGE));
        Assert.That(rig.Bpf.ProgDetach(1, fds[62], MprogFlags.None, 0, 0).IsOk, "naming the last one works");
        Assert.That(rig.Bpf.ProgDetach(1, 0, MprogFlags.None, 0, 0).IsOk, "62 left: the last goes");
    }

    /// <summary>bpf_mprog_fetch clamps -1 to 0 and total to total - 1: BEFORE the first or AFTER the last removes that program.</summary>
    [Test]
    public void Detach_BeforeFirst_AfterLast_RemoveThatProgram_AsBpfMprogFetch()
    {
        var f = new Fixture();
        int c = f.C;
        f.Rig.Bpf.ProgAttach(1, c, MprogFlags.None, 0, 0).ThrowIfFailed(); // A B C
        f.Rig.Bpf.ProgDetach(1, 0, MprogFlags.Before, (uint)f.A, 0).ThrowIfFailed();
        Assert.That(f.Rig.Dev.TcxIngress.Bundle!.Contains(f.Rig.Prog(f.A)), Is.False, "BEFORE A (first) removed A");
        f.Rig.Bpf.ProgDetach(1, 0, MprogFlags.After, (uint)c, 0).ThrowIfFailed();
        Assert.That(f.Rig.Dev.TcxIngress.Bundle!.Contains(f.Rig.Prog(c)), Is.False, "AFTER C (last) removed C");
        Assert.That(f.Rig.Dev.TcxIngress.Count, Is.EqualTo(1));
    }
}
