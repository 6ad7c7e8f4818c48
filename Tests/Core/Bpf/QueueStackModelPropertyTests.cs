using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using Bogus;
using static BpfSim.Tests.TestMaps;

namespace BpfSim.Tests.Core.Bpf;

/// <summary>
/// Random push/pop/peek sequences (random flags, some wrong-sized buffers and keys, syscall and program side mixed)
/// against a model written from kernel/bpf/queue_stack_maps.c: a list of at most max_entries values, pushed at the
/// end; a queue takes from the front, a stack from the end; a full map refuses a push with E2BIG unless BPF_EXIST,
/// which drops the front (the oldest) first; BPF_NOEXIST or any flag above BPF_EXIST is EINVAL; empty is ENOENT.
/// </summary>
[Category("Core")]
public sealed class QueueStackModelPropertyTests
{
    private const int Steps = 20_000;

    [TestCase(MapType.Queue, 1u, 11)]
    [TestCase(MapType.Queue, 5u, 12)]
    [TestCase(MapType.Stack, 1u, 13)]
    [TestCase(MapType.Stack, 5u, 14)]
    public void RandomOperations_MatchModel(MapType type, uint max, int seed)
    {
        var random = new Randomizer(seed);
        var bpf = NewSystem(cpus: 2);
        const int valueSize = 6;
        int fd = Create(bpf, type, keySize: 0, valueSize: valueSize, maxEntries: max);
        var map = (QueueStackMapBase)Live(bpf, fd);
        var model = new LinkedList<byte[]>();
        bool stack = type == MapType.Stack;

        byte[]? Next() => model.Count == 0 ? null : stack ? model.Last!.Value : model.First!.Value;
        void Take()
        {
            if (stack)
            {
                model.RemoveLast();
            }
            else
            {
                model.RemoveFirst();
            }
        }

        for (int step = 0; step < Steps; step++)
        {
            int op = random.Int(0, 2);
            bool program = random.Bool(0.3f);
            bool badBuffer = !program && random.Bool(0.03f);
            bool badKey = !program && random.Bool(0.03f);
            byte[] key = badKey ? new byte[4] : [];
            string where = $"step {step}: op {op} program {program} count {model.Count}";
            if (op == 0)
            {
                ulong flags = random.WeightedRandom(new ulong[] { 0, 1, 2, 3, 4, 8 }, new[] { 0.5f, 0.1f, 0.3f, 0.04f, 0.03f, 0.03f });
                var value = random.Bytes(badBuffer ? valueSize + 2 : valueSize);
                Errno expected;
                if (badKey || badBuffer || flags > 2 || flags == 1)
                {
                    expected = Errno.EINVAL;
                }
                else if (model.Count == max && flags != 2)
                {
                    expected = Errno.E2BIG;
                }
                else
                {
                    expected = Errno.None;
                }
                Errno got;
                if (program)
                {
                    using var _ = bpf.EnterProgram(step % 2);
                    got = map.Push(value, flags);
                }
                else
                {
                    got = bpf.MapUpdateElem(fd, key, value, flags).Errno;
                }
                Assert.That(got, Is.EqualTo(expected), $"{where} flags {flags}");
                if (got == Errno.None)
                {
                    if (model.Count == max)
                    {
                        model.RemoveFirst();
                    }
                    model.AddLast(value);
                }
            }
            else
            {
                bool pop = op == 1;
                var buffer = new byte[badBuffer ? valueSize - 1 : valueSize];
                Errno expected = badKey || badBuffer ? Errno.EINVAL : model.Count == 0 ? Errno.ENOENT : Errno.None;
                Errno got;
                if (program)
                {
                    using var _ = bpf.EnterProgram(step % 2);
                    got = pop ? map.Pop(buffer) : map.Peek(buffer);
                }
                else
                {
                    got = (pop ? bpf.MapLookupAndDeleteElem(fd, key, buffer) : bpf.MapLookupElem(fd, key, buffer)).Errno;
                }
                Assert.That(got, Is.EqualTo(expected), $"{where} pop {pop}");
                if (got == Errno.None)
                {
                    Assert.That(buffer, Is.EqualTo(Next()), where);
                    if (pop)
                    {
                        Take();
                    }
                }
                else if (got == Errno.ENOENT)
                {
                    Assert.That(buffer, Is.All.EqualTo(0), $"{where}: an empty map zeroes the value");
                }
            }
            Assert.That(map.Count, Is.EqualTo(model.Count), where);
        }
    }
}
