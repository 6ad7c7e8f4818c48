using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.MultiProg.ChainCall;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf;

public sealed partial class BpfSystem
{
    /// <summary>
    /// The chain-call RFC's conditional update (a cmpxchg on one entry): sets <paramref name="key"/> of a chain-call
    /// map to the program fd in <paramref name="value"/> only if the entry now holds the program
    /// <paramref name="expectedOldProgFd"/> (-1: only if the entry is empty).
    /// </summary>
    /// <returns>EAGAIN the entry changed (holds another program, or is empty/full against the expectation); EBADF/EINVAL
    /// bad fds or a non-XDP program; EINVAL not a chain-call map or bad sizes/flags; EEXIST/ENOENT by
    /// <paramref name="flags"/> as an ordinary update; E2BIG map full.</returns>
    public BpfResult MapUpdateElemExpected(int mapFd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, int expectedOldProgFd, ulong flags = UpdateFlags.Any)
    {
        var r = ResolveConditional(mapFd, key, expectedOldProgFd, out var map, out var expected);
        if (r.IsOk)
        {
            r = CheckValue(map, value.Length);
        }
        if (r.IsOk)
        {
            r = map.Update(ChainCallKey.Read(key), value, flags, Caller, expected, checkExpected: true);
        }
        return r.For(BpfCommand.MapUpdateElem);
    }

    /// <summary>
    /// The conditional delete of the chain-call RFC: removes <paramref name="key"/> only if it holds the program
    /// <paramref name="expectedOldProgFd"/> (-1: unconditional, as <see cref="MapDeleteElem"/>).
    /// </summary>
    /// <returns>EAGAIN the entry holds another program or is empty; ENOENT missing (unconditional form); EBADF/EINVAL
    /// bad fds or not a chain-call map.</returns>
    public BpfResult MapDeleteElemExpected(int mapFd, ReadOnlySpan<byte> key, int expectedOldProgFd)
    {
        var r = ResolveConditional(mapFd, key, expectedOldProgFd, out var map, out var expected);
        if (r.IsOk)
        {
            r = map.Delete(ChainCallKey.Read(key), expected, checkExpected: expected is not null);
        }
        return r.For(BpfCommand.MapDeleteElem);
    }

    private BpfResult ResolveConditional(int mapFd, ReadOnlySpan<byte> key, int expectedFd, out ChainCallMap map, out BpfProgram? expected)
    {
        map = null!;
        expected = null;
        var r = ResolveMap(mapFd, out var m, FdMode.Write);
        if (!r.IsOk)
        {
            return r;
        }
        if (m is not ChainCallMap c)
        {
            return BpfResult.Fail(Errno.EINVAL, $"conditional updates are for chain-call maps; map {m.Id} is {m.Type.ShortName()}");
        }
        map = c;
        r = CheckKey(map, key);
        if (!r.IsOk || expectedFd < 0)
        {
            return r;
        }
        r = ChainCallMap.ResolveXdpProgram(Caller, expectedFd, out var p);
        expected = p;
        return r;
    }
}
