using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Tests.Core.Bpf.Net;

namespace BpfSim.Tests.Core.Bpf.MultiProg;

/// <summary>tcx positioning, revisions, query, links and the run loop (kernel/bpf/mprog.c, kernel/bpf/tcx.c, tcx_run).</summary>
[Category("Core")]
public sealed class TcxMprogTests
{
    private static string[] Order(PacketRig rig)
    {
        var bundle = rig.Dev.TcxIngress.Bundle;
        return bundle is null ? [] : Enumerable.Range(0, bundle.Count).Select(i => bundle[i].Prog!.Name).ToArray();
    }

    [Test]
    public void Positions_Append_BeforeAfter_Front_Replace()
    {
        var rig = new PacketRig(syncRcu: false);
        int a = rig.Tc("A"), b = rig.Tc("B"), c = rig.Tc("C"), d = rig.Tc("D"), e = rig.Tc("E"), f = rig.Tc("F");
        rig.Bpf.ProgAttach(1, a, MprogFlags.None, 0, 0).ThrowIfFailed();                 // A
        rig.Bpf.ProgAttach(1, b, MprogFlags.After, 0, 0).ThrowIfFailed();                 // A B
        rig.Bpf.ProgAttach(1, c, MprogFlags.Before, 0, 0).ThrowIfFailed();                // C A B
        rig.Bpf.ProgAttach(1, d, MprogFlags.Before, (uint)b, 0).ThrowIfFailed();          // C A D B
        rig.Bpf.ProgAttach(1, e, MprogFlags.After | MprogFlags.Id, rig.Prog(c).Id, 0).ThrowIfFailed(); // C E A D B
        rig.Bpf.ProgAttach(1, f, MprogFlags.Replace, 0, 0, replaceProgFd: a).ThrowIfFailed();         // C E F D B
        Assert.That(Order(rig), Is.EqualTo(new[] { "C", "E", "F", "D", "B" }));
        Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(7ul), "1 + six committed changes");
        Assert.That(rig.Prog(a).RefCount, Is.EqualTo(1), "the replaced program's bundle reference is dropped");
    }

    /// <summary>
    /// link_create (kernel/bpf/syscall.c) and tcx_link_attach (kernel/bpf/tcx.c) do not mask the flags; BPF_F_REPLACE
    /// reaches bpf_mprog_attach with prog_old NULL, and bpf_mprog_pos_exact finds no NULL program: ENOENT.
    /// </summary>
    [Test]
    public void TcxLinkCreate_ReplaceFlag_ENOENT_AsBpfMprogAttachPosExact()
    {
        var rig = new PacketRig(syncRcu: false);
        int a = rig.Tc("A"), b = rig.Tc("B");
        rig.Bpf.ProgAttach(1, a, MprogFlags.None, 0, 0).ThrowIfFailed();
        Assert.That(rig.Bpf.TcxLinkCreate(b, 1, MprogFlags.Replace, 0, 0, out int link).Errno, Is.EqualTo(Errno.ENOENT));
        Assert.Multiple(() =>
        {
            Assert.That(link, Is.EqualTo(-1));
            Assert.That(Order(rig), Is.EqualTo(new[] { "A" }));
            Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(2ul));
            Assert.That(rig.Prog(b).RefCount, Is.EqualTo(1), "the failed link dropped its program reference");
        });
    }

    /// <summary>
    /// link_create resolves the program first (bpf_prog_get: EBADF) and has no BPF_F_ATTACH_MASK_MPROG check; a flag
    /// outside the mask without BEFORE/AFTER is EINVAL only from bpf_mprog_attach ("rtuple.prog || flags").
    /// </summary>
    [Test]
    public void TcxLinkCreate_FlagsNotMaskedByLinkCreate_ProgramFdCheckedFirst()
    {
        var rig = new PacketRig(syncRcu: false);
        int a = rig.Tc("A");
        var stray = (MprogFlags)1;
        Assert.That(rig.Bpf.TcxLinkCreate(77, 1, stray, 0, 0, out _).Errno, Is.EqualTo(Errno.EBADF));
        Assert.That(rig.Bpf.TcxLinkCreate(a, 9, stray, 0, 0, out _).Errno, Is.EqualTo(Errno.ENODEV), "tcx_link_attach: __dev_get_by_index");
        Assert.That(rig.Bpf.TcxLinkCreate(a, 1, stray, 0, 0, out _).Errno, Is.EqualTo(Errno.EINVAL));
        Assert.That(rig.Dev.TcxIngress.IsEmpty, Is.True);
    }

    [Test]
    public void Revision_StartsAt1_Increments_AndResetsWhenTheLastGoes()
    {
        var rig = new PacketRig(syncRcu: false);
        Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(1ul));
        int a = rig.Tc("A"), b = rig.Tc("B");
        rig.Bpf.ProgAttach(1, a, MprogFlags.None, 0, 1).ThrowIfFailed();
        rig.Bpf.ProgAttach(1, b, MprogFlags.None, 0, 2).ThrowIfFailed();
        rig.Bpf.ProgDetach(1, a, MprogFlags.None, 0, 3).ThrowIfFailed();
        Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(4ul));
        rig.Bpf.ProgDetach(1, b, MprogFlags.None, 0, 4).ThrowIfFailed();
        Assert.That(rig.Dev.TcxIngress.IsEmpty, Is.True);
        Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(1ul), "the entry is freed; a new one starts at 1");
    }

    [Test]
    public void Query_EmptyIsRevision1_PartialFillIsENOSPC()
    {
        var rig = new PacketRig(syncRcu: false);
        Assert.That(rig.Bpf.ProgQuery(1, new uint[4], new uint[4], out uint n0, out ulong rev0).IsOk);
        Assert.That((n0, rev0), Is.EqualTo((0u, 1ul)));
        int a = rig.Tc("A"), b = rig.Tc("B"), c = rig.Tc("C");
        rig.Bpf.ProgAttach(1, a, MprogFlags.None, 0, 0).ThrowIfFailed();
        rig.Bpf.ProgAttach(1, b, MprogFlags.None, 0, 0).ThrowIfFailed();
        rig.Bpf.TcxLinkCreate(c, 1, MprogFlags.None, 0, 0, out int link).ThrowIfFailed();
        var ids = new uint[2];
        var links = new uint[2];
        var r = rig.Bpf.ProgQuery(1, ids, links, out uint n, out ulong rev);
        Assert.That(r.Errno, Is.EqualTo(Errno.ENOSPC));
        Assert.That((n, rev), Is.EqualTo((3u, 4ul)));
        Assert.That(ids, Is.EqualTo(new[] { rig.Prog(a).Id, rig.Prog(b).Id }));
        var all = new uint[3];
        var allLinks = new uint[3];
        Assert.That(rig.Bpf.ProgQuery(1, all, allLinks, out _, out _).IsOk);
        Assert.That(allLinks[..2], Is.EqualTo(new[] { 0u, 0u }));
        Assert.That(allLinks[2], Is.Not.Zero, "the link's id");
        Assert.That(rig.Bpf.ProgQuery(1, [], [], out uint countOnly, out _).IsOk, "a count-only query is fine");
        Assert.That(countOnly, Is.EqualTo(3u));
        _ = link;
    }

    [Test]
    public void RunLoop_StopsAtFirstNonNext_UnknownCodesBecomeNext()
    {
        var rig = new PacketRig(syncRcu: false);
        foreach (var (name, ret) in new[] { ("A", TcxAction.Next), ("B", 5), ("C", TcxAction.Drop) })
        {
            rig.Bpf.ProgAttach(1, rig.Tc(name, ret), MprogFlags.None, 0, 0).ThrowIfFailed();
        }
        Assert.That(rig.RunTcx(), Is.EqualTo(TcxAction.Next), "5 (TC_ACT_STOLEN-like unknown) stops the chain and maps to NEXT");
        Assert.That(rig.Ran, Is.EqualTo(new[] { "A", "B" }));
        rig.Bpf.ProgDetach(1, 0, MprogFlags.Before, 0, 0).ThrowIfFailed(); // removes the first (A)
        rig.Bpf.ProgDetach(1, 0, MprogFlags.Before, 0, 0).ThrowIfFailed(); // and B
        Assert.That(rig.RunTcx(), Is.EqualTo(TcxAction.Drop));
        Assert.That(rig.Ran, Is.EqualTo(new[] { "C" }));
    }

    [Test]
    public void RunLoop_AllNext_FallsThroughAsNext_EmptyIsNext()
    {
        var rig = new PacketRig(syncRcu: false);
        Assert.That(rig.RunTcx(), Is.EqualTo(TcxAction.Next));
        rig.Bpf.ProgAttach(1, rig.Tc("A"), MprogFlags.None, 0, 0).ThrowIfFailed();
        rig.Bpf.ProgAttach(1, rig.Tc("B"), MprogFlags.None, 0, 0).ThrowIfFailed();
        Assert.That(rig.RunTcx(), Is.EqualTo(TcxAction.Next));
        Assert.That(rig.Ran, Is.EqualTo(new[] { "A", "B" }));
    }

    [Test]
    public void Link_RelativeByLink_UpdateInPlace_CloseRemoves()
    {
        var rig = new PacketRig(syncRcu: false);
        int a = rig.Tc("A", TcxAction.Pass), b = rig.Tc("B"), c = rig.Tc("C");
        rig.Bpf.TcxLinkCreate(a, 1, MprogFlags.None, 0, 0, out int la).ThrowIfFailed();
        rig.Bpf.TcxLinkCreate(b, 1, MprogFlags.Before | MprogFlags.Link, (uint)la, 0, out int lb).ThrowIfFailed();
        Assert.That(Order(rig), Is.EqualTo(new[] { "B", "A" }));
        ulong rev = rig.Dev.TcxIngress.Revision;
        Assert.That(rig.Bpf.LinkUpdate(lb, c, oldProgFd: a).Errno, Is.EqualTo(Errno.EPERM));
        Assert.That(rig.Bpf.LinkUpdate(lb, a).Errno, Is.EqualTo(Errno.EEXIST), "A is already in the bundle");
        Assert.That(rig.Bpf.LinkUpdate(lb, c, oldProgFd: b).IsOk);
        Assert.That(Order(rig), Is.EqualTo(new[] { "C", "A" }));
        Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(rev + 1));
        Assert.That(rig.Bpf.ProgDetach(1, c, MprogFlags.None, 0, 0).Errno, Is.EqualTo(Errno.EBUSY));
        Assert.That(rig.Bpf.Close(lb).IsOk);
        Assert.That(Order(rig), Is.EqualTo(new[] { "A" }));
        Assert.That(rig.Bpf.LinkDetach(la).IsOk);
        Assert.That(rig.Dev.TcxIngress.IsEmpty, Is.True);
        Assert.That(rig.Bpf.LinkUpdate(la, b).Errno, Is.EqualTo(Errno.ENOLINK));
    }

    [Test]
    public void Insert_WaitsAGracePeriod_ReplaceDoesNot()
    {
        var rig = new PacketRig(syncRcu: true);
        int a = rig.Tc("A"), b = rig.Tc("B");
        long gp0 = rig.Bpf.Rcu.CompletedGracePeriods;
        rig.Bpf.ProgAttach(1, a, MprogFlags.None, 0, 0).ThrowIfFailed();
        long gp1 = rig.Bpf.Rcu.CompletedGracePeriods;
        Assert.That(gp1, Is.GreaterThan(gp0), "synchronize_rcu after publishing the new array");
        rig.Bpf.ProgAttach(1, b, MprogFlags.Replace, 0, 0, replaceProgFd: a).ThrowIfFailed();
        Assert.That(rig.Bpf.Rcu.CompletedGracePeriods, Is.EqualTo(gp1), "replace writes in place");
    }
}
