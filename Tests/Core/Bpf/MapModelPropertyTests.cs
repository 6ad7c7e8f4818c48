using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using Bogus;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// Random update/delete/lookup/get_next_key/lookup_and_delete sequences, with random (also invalid) flags and
/// wrong-sized buffers, against a plain model: every errno and every value must agree, and no call may corrupt the map.
/// </summary>
[Category("Core")]
public sealed class MapModelPropertyTests
{
    private const int Steps = 20_000;

    [TestCase(MapType.Hash, 1)]
    [TestCase(MapType.Hash, 2)]
    [TestCase(MapType.PercpuHash, 3)]
    [TestCase(MapType.Array, 4)]
    [TestCase(MapType.PercpuArray, 5)]
    public void RandomOperations_MatchModel(MapType type, int seed)
    {
        var random = new Randomizer(seed);
        var bpf = NewSystem(cpus: 3);
        bool isArray = type is MapType.Array or MapType.PercpuArray;
        uint keySize = isArray ? 4u : 8u;
        const uint valueSize = 12;
        const uint max = 8;
        int fd = Create(bpf, type, keySize: keySize, valueSize: valueSize, maxEntries: max);
        int valueLen = Live(bpf, fd).SyscallValueSize;
        var model = new SortedDictionary<ulong, byte[]>();
        if (isArray)
        {
            for (ulong i = 0; i < max; i++)
            {
                model[i] = new byte[valueLen];
            }
        }

        byte[] Key(ulong k) => isArray ? U32((uint)k) : U64(k);
        byte[] RandomValue()
        {
            var v = random.Bytes(valueLen);
            if (type.IsPerCpu())
            {
                // Padding bytes of each per-CPU slot are not part of the value in the model; zero them.
                for (int cpu = 0; cpu < 3; cpu++)
                {
                    Array.Clear(v, cpu * 16 + 12, 4);
                }
            }
            return v;
        }

        for (int step = 0; step < Steps; step++)
        {
            ulong k = (ulong)random.Int(0, 12); // beyond max entries for arrays, beyond capacity for hashes
            int op = random.Int(0, 5);
            string where = $"step {step}: op {op} key {k}";
            switch (op)
            {
                case 0:
                case 1:
                {
                    ulong flags = random.WeightedRandom(new ulong[] { 0, 1, 2, 3, 4 }, new[] { 0.4f, 0.25f, 0.25f, 0.05f, 0.05f });
                    var value = RandomValue();
                    var r = bpf.MapUpdateElem(fd, Key(k), value, flags);
                    Errno expected = ExpectedUpdate(model, k, flags, isArray, max);
                    Assert.That(r.Errno, Is.EqualTo(expected), $"{where} flags {flags}: {r.Reason}");
                    if (r.IsOk)
                    {
                        model[k] = value;
                    }
                    break;
                }
                case 2:
                {
                    var r = bpf.MapDeleteElem(fd, Key(k));
                    Errno expected = isArray ? Errno.EINVAL : model.ContainsKey(k) ? Errno.None : Errno.ENOENT;
                    Assert.That(r.Errno, Is.EqualTo(expected), where);
                    if (r.IsOk)
                    {
                        model.Remove(k);
                    }
                    break;
                }
                case 3:
                {
                    bool wrongSize = random.Bool(0.05f);
                    var buffer = new byte[wrongSize ? valueLen + 1 : valueLen];
                    var r = bpf.MapLookupElem(fd, Key(k), buffer);
                    Errno expected = wrongSize ? Errno.EINVAL : model.ContainsKey(k) ? Errno.None : Errno.ENOENT;
                    Assert.That(r.Errno, Is.EqualTo(expected), where);
                    if (r.IsOk)
                    {
                        Assert.That(buffer, Is.EqualTo(model[k]), where);
                    }
                    break;
                }
                case 4:
                {
                    bool nullKey = random.Bool(0.3f);
                    var next = new byte[keySize];
                    var r = bpf.MapGetNextKey(fd, nullKey ? default : Key(k), next);
                    if (isArray)
                    {
                        ulong expectedNext = nullKey || k >= max ? 0 : k + 1;
                        if (!nullKey && k == max - 1)
                        {
                            Assert.That(r.Errno, Is.EqualTo(Errno.ENOENT), where);
                        }
                        else
                        {
                            Assert.That(r.IsOk, where);
                            Assert.That((ulong)ReadU32(next), Is.EqualTo(expectedNext), where);
                        }
                    }
                    else if (model.Count == 0)
                    {
                        Assert.That(r.Errno, Is.EqualTo(Errno.ENOENT), where);
                    }
                    else if (r.IsOk)
                    {
                        Assert.That(model.ContainsKey(ReadU64(next)), where);
                    }
                    else
                    {
                        Assert.That(r.Errno, Is.EqualTo(Errno.ENOENT), where);
                        Assert.That(model.ContainsKey(k) && !nullKey, $"{where}: only the last key ends iteration");
                    }
                    break;
                }
                default:
                {
                    var buffer = new byte[valueLen];
                    var r = bpf.MapLookupAndDeleteElem(fd, Key(k), buffer);
                    Errno expected = type != MapType.Hash && type != MapType.PercpuHash ? Errno.ENOTSUPP
                        : model.ContainsKey(k) ? Errno.None : Errno.ENOENT;
                    Assert.That(r.Errno, Is.EqualTo(expected), where);
                    if (r.IsOk)
                    {
                        Assert.That(buffer, Is.EqualTo(model[k]), where);
                        model.Remove(k);
                    }
                    break;
                }
            }
            if (step % 500 == 0)
            {
                AssertIterationMatches(bpf, fd, model, keySize, isArray);
            }
        }
        AssertIterationMatches(bpf, fd, model, keySize, isArray);
    }

    private static Errno ExpectedUpdate(SortedDictionary<ulong, byte[]> model, ulong k, ulong flags, bool isArray, uint max)
    {
        if (flags == UpdateFlags.FLock || flags > UpdateFlags.Exist)
        {
            return Errno.EINVAL;
        }
        if (isArray)
        {
            return k >= max ? Errno.E2BIG : flags == UpdateFlags.NoExist ? Errno.EEXIST : Errno.None;
        }
        bool exists = model.ContainsKey(k);
        if (exists && flags == UpdateFlags.NoExist)
        {
            return Errno.EEXIST;
        }
        if (!exists && flags == UpdateFlags.Exist)
        {
            return Errno.ENOENT;
        }
        return !exists && model.Count >= max ? Errno.E2BIG : Errno.None;
    }

    /// <summary>get_next_key from the NULL key visits every key exactly once, then ENOENT.</summary>
    private static void AssertIterationMatches(BpfSystem bpf, int fd, SortedDictionary<ulong, byte[]> model, uint keySize, bool isArray)
    {
        var seen = new List<ulong>();
        var key = Array.Empty<byte>();
        var next = new byte[keySize];
        while (bpf.MapGetNextKey(fd, key, next).IsOk)
        {
            seen.Add(isArray ? ReadU32(next) : ReadU64(next));
            key = next.ToArray();
            Assert.That(seen, Has.Count.LessThanOrEqualTo(model.Count), "iteration must terminate");
        }
        Assert.That(seen, Is.EquivalentTo(model.Keys));
        Assert.That(Live(bpf, fd).Count, Is.EqualTo(model.Count));
    }
}
