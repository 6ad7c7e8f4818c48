using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Simulation;
using BpfSim.Tests.Core.Bpf.Net;

namespace BpfSim.Tests.Core.Bpf.MultiProg;

/// <summary>
/// Random attach/detach/link sequences against a list model of the positioning rules: the bundle's order, the errno
/// of every call, the revision (+1 per success, 1 again when emptied) and the run order must match the model.
/// </summary>
[Category("Core")]
public sealed class MprogModelPropertyTests
{
    private const int Pool = 10;

    [TestCase(1ul)]
    [TestCase(2ul)]
    [TestCase(3ul)]
    public void RandomSequences_MatchTheListModel(ulong seed)
    {
        var rnd = SimRandom.For(seed, "mprog-model");
        var rig = new PacketRig(syncRcu: false);
        var fds = Enumerable.Range(0, Pool).Select(i => rig.Tc($"p{i}")).ToArray();
        var model = new List<(int Prog, int LinkFd)>(); // LinkFd 0: attached directly
        ulong revision = 1;
        for (int step = 0; step < 1500; step++)
        {
            int p = rnd.Next(Pool);
            int rel = rnd.Next(Pool);
            int at = model.FindIndex(e => e.Prog == p);
            int relAt = model.FindIndex(e => e.Prog == rel);
            int op = rnd.Next(8);
            Errno expected;
            BpfResult r;
            string what;
            switch (op)
            {
                case 0 or 1: // append / prepend without a relative object
                {
                    var flags = op == 0 ? MprogFlags.After : MprogFlags.Before;
                    what = $"attach p{p} {flags}";
                    expected = at >= 0 ? Errno.EEXIST : Errno.None;
                    r = rig.Bpf.ProgAttach(1, fds[p], flags, 0, rnd.Next(4) == 0 ? revision : 0);
                    if (r.IsOk)
                    {
                        model.Insert(op == 0 ? model.Count : 0, (p, 0));
                    }
                    break;
                }
                case 2 or 3: // before / after a relative program
                {
                    var flags = op == 2 ? MprogFlags.Before : MprogFlags.After;
                    what = $"attach p{p} {flags} p{rel}";
                    expected = at >= 0 ? Errno.EEXIST : relAt < 0 ? Errno.ENOENT : Errno.None;
                    r = rig.Bpf.ProgAttach(1, fds[p], flags, (uint)fds[rel], 0);
                    if (r.IsOk)
                    {
                        model.Insert(op == 2 ? relAt : relAt + 1, (p, 0));
                    }
                    break;
                }
                case 4: // replace rel by p
                    what = $"replace p{rel} by p{p}";
                    expected = at >= 0 ? Errno.EEXIST : relAt < 0 ? Errno.ENOENT : model[relAt].LinkFd != 0 ? Errno.EBUSY : Errno.None;
                    r = rig.Bpf.ProgAttach(1, fds[p], MprogFlags.Replace, 0, 0, replaceProgFd: fds[rel]);
                    if (r.IsOk)
                    {
                        model[relAt] = (p, 0);
                    }
                    break;
                case 5: // detach p
                    what = $"detach p{p}";
                    expected = model.Count == 0 || at < 0 ? Errno.ENOENT : model[at].LinkFd != 0 ? Errno.EBUSY : Errno.None;
                    r = rig.Bpf.ProgDetach(1, fds[p], MprogFlags.None, 0, 0);
                    if (r.IsOk)
                    {
                        model.RemoveAt(at);
                    }
                    break;
                case 6: // a link, appended
                    what = $"link p{p}";
                    expected = at >= 0 ? Errno.EEXIST : Errno.None;
                    r = rig.Bpf.TcxLinkCreate(fds[p], 1, MprogFlags.None, 0, 0, out int linkFd);
                    if (r.IsOk)
                    {
                        model.Add((p, linkFd));
                    }
                    break;
                default: // close a link, if p is linked
                    if (at < 0 || model[at].LinkFd == 0)
                    {
                        continue;
                    }
                    what = $"close link of p{p}";
                    expected = Errno.None;
                    r = rig.Bpf.Close(model[at].LinkFd);
                    model.RemoveAt(at);
                    break;
            }
            Assert.That(r.Errno, Is.EqualTo(expected), $"step {step}: {what}: {r.Reason}");
            if (r.IsOk)
            {
                revision = model.Count == 0 ? 1 : revision + 1;
            }
            Assert.That(rig.Dev.TcxIngress.Revision, Is.EqualTo(revision), $"step {step}: {what}");
            var ids = new uint[Pool];
            rig.Bpf.ProgQuery(1, ids, [], out uint count, out _).ThrowIfFailed();
            Assert.That(ids[..(int)count], Is.EqualTo(model.Select(e => rig.Prog(fds[e.Prog]).Id).ToArray()), $"step {step}: {what}");
        }
        rig.RunTcx();
        Assert.That(rig.Ran, Is.EqualTo(model.Select(e => $"p{e.Prog}").ToArray()), "programs run in bundle order (all return NEXT)");
    }
}
