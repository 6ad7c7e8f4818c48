using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Simulation;
using Bogus;
using static BpfSim.Tests.Core.Bpf.StructOps.TestOps;

namespace BpfSim.Tests.Core.Bpf.StructOps;

/// <summary>
/// Thousands of interleaved registrations, unregistrations, link creates/updates/detaches, user adopts and releases,
/// fd closes and passing time. After every step: each map's refcnt equals its registration or link plus its live
/// users, no freed map is ever called, and at the end everything is freed.
/// </summary>
[Category("StructOps")]
public sealed class StructOpsRandomizedTests
{
    private sealed class Tracked(int fd, StructOpsMap map)
    {
        public int Fd { get; set; } = fd;
        public StructOpsMap Map { get; } = map;
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomLifecycles_RefcntMatchesUsers_NoFreedMapCalled_AllFreedAtEnd(int seed)
    {
        var random = new Randomizer(seed);
        var (bpf, type) = NewSystem(cpus: 4);
        var names = new[] { "a", "b", "c" };
        var maps = new List<Tracked>();
        var links = new List<int>();
        var users = new List<TestSubsystem.User>();
        long expectedCalls = 0;

        for (int step = 0; step < 4000; step++)
        {
            int op = random.Int(0, 12);
            string name = random.ArrayElement(names);
            switch (op)
            {
                case 0:
                case 1:
                {
                    bool link = op == 1;
                    int fd = CreateMap(bpf, link);
                    var before = bpf.Caller.Fds().ToHashSet();
                    var value = StandardValue(bpf, name, add: (ulong)step);
                    var programFds = bpf.Caller.Fds().Where(f => !before.Contains(f)).ToList();
                    var r = bpf.MapUpdateElem(fd, Key0, value);
                    Assert.That(r.IsOk || r.Errno == Errno.EEXIST, r.Reason);
                    // The map now holds its programs (or the update failed and they go with their fds).
                    programFds.ForEach(p => bpf.Close(p));
                    maps.Add(new Tracked(fd, (StructOpsMap)TestMaps.Live(bpf, fd)));
                    break;
                }
                case 2:
                {
                    var ready = maps.Where(m => m.Fd >= 0 && m.Map.State == StructOpsState.Ready && m.Map.LinkCount == 0).ToList();
                    if (ready.Count > 0)
                    {
                        var r = bpf.LinkCreate(random.ListItem(ready).Fd, out int linkFd);
                        Assert.That(r.IsOk || r.Errno == Errno.EEXIST, r.Reason);
                        if (r.IsOk)
                        {
                            links.Add(linkFd);
                        }
                    }
                    break;
                }
                case 3:
                {
                    var ready = maps.Where(m => m.Fd >= 0 && m.Map.IsLinkMode && m.Map.State == StructOpsState.Ready).ToList();
                    if (links.Count > 0 && ready.Count > 0)
                    {
                        var r = bpf.LinkUpdate(random.ListItem(links), random.ListItem(ready).Fd);
                        Assert.That(r.Errno, Is.AnyOf(Errno.None, Errno.EINVAL, Errno.ENOLINK), r.Reason);
                    }
                    break;
                }
                case 4:
                    if (links.Count > 0)
                    {
                        Assert.That(bpf.LinkDetach(random.ListItem(links)).IsOk);
                    }
                    break;
                case 5:
                    if (links.Count > 0)
                    {
                        int l = random.ListItem(links);
                        links.Remove(l);
                        Assert.That(bpf.Close(l).IsOk);
                    }
                    break;
                case 6:
                {
                    var plain = maps.Where(m => m.Fd >= 0 && !m.Map.IsLinkMode).ToList();
                    if (plain.Count > 0)
                    {
                        var m = random.ListItem(plain);
                        var before = m.Map.State;
                        var r = bpf.MapDeleteElem(m.Fd, Key0);
                        var expected = before switch
                        {
                            StructOpsState.InUse => Errno.None,
                            StructOpsState.ToBeFree => Errno.EINPROGRESS,
                            _ => Errno.ENOENT,
                        };
                        Assert.That(r.Errno, Is.EqualTo(expected));
                    }
                    break;
                }
                case 7:
                case 8:
                    if (type.Subsystem.Adopt(name) is { } user)
                    {
                        users.Add(user);
                    }
                    break;
                case 9:
                    if (users.Count > 0)
                    {
                        var u = random.ListItem(users);
                        users.Remove(u);
                        type.Subsystem.Release(u);
                    }
                    break;
                case 10:
                {
                    var open = maps.Where(m => m.Fd >= 0).ToList();
                    if (open.Count > 0)
                    {
                        var m = random.ListItem(open);
                        Assert.That(bpf.Close(m.Fd).IsOk);
                        m.Fd = -1;
                    }
                    break;
                }
                default:
                    bpf.Simulator.RunUntil(bpf.Simulator.Now + SimTime.FromMilliseconds(random.Int(0, 10)));
                    break;
            }

            // Every user calls its implementation; Run throws if the map was freed under it.
            foreach (var u in users)
            {
                type.Subsystem.Run(bpf, u, random.Int(0, 3), 1);
                expectedCalls++;
            }
            CheckRefcounts(maps, users, step);
        }

        // Tear down: users let go, registrations are deleted (reopening maps by id where the fd was closed),
        // links and fds close, and after a grace period nothing is left.
        foreach (var u in users)
        {
            type.Subsystem.Release(u);
        }
        foreach (int l in links)
        {
            bpf.Close(l);
        }
        foreach (var m in maps.Where(m => m.Map.State == StructOpsState.InUse && !m.Map.IsDead))
        {
            if (m.Fd < 0)
            {
                bpf.MapGetFdById(m.Map.Id, out int fd).ThrowIfFailed();
                m.Fd = fd;
            }
            bpf.MapDeleteElem(m.Fd, Key0).ThrowIfFailed();
        }
        foreach (var m in maps.Where(m => m.Fd >= 0))
        {
            bpf.Close(m.Fd);
        }
        bpf.Simulator.RunUntil(bpf.Simulator.Now + SimTime.FromSeconds(1));
        Assert.That(maps.All(m => m.Map.IsFreed), "every map freed");
        Assert.That(bpf.Objects.Count(BpfObjectKind.Map), Is.Zero);
        Assert.That(bpf.Objects.Count(BpfObjectKind.Program), Is.Zero);
        Assert.That(bpf.Objects.Count(BpfObjectKind.Link), Is.Zero);
        Assert.That(type.Subsystem.Current, Is.Empty);
        Assert.That(type.Subsystem.Calls, Is.EqualTo(expectedCalls));
        Assert.That(expectedCalls, Is.GreaterThan(1000), "the run exercised users");
    }

    private static void CheckRefcounts(List<Tracked> maps, List<TestSubsystem.User> users, int step)
    {
        foreach (var m in maps)
        {
            if (m.Map.IsDead)
            {
                Assert.That(users.Any(u => u.Data.Map == m.Map), Is.False, $"step {step}: a user holds dead map {m.Map.Id}");
                continue;
            }
            long holders = (m.Map.State == StructOpsState.InUse ? 1 : 0) + m.Map.LinkCount +
                           users.Count(u => u.Data.Map == m.Map);
            Assert.That(m.Map.ReportedRefCount, Is.EqualTo(holders), $"step {step}: map {m.Map.Id} {m.Map.State}");
            Assert.That(m.Map.RefCount, Is.EqualTo(holders + (m.Fd >= 0 ? 1 : 0)), $"step {step}: map {m.Map.Id}");
        }
    }
}
