using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Core.Bpf;

/// <summary>
/// A simulated user-space process: its file descriptor table. An fd holds one reference on its object (and, for a
/// map, one user reference); fds are allocated lowest-free from 3, as 0–2 are the standard streams.
/// </summary>
public sealed class BpfProcess
{
    private const int FirstFd = 3;
    private BpfObject?[] _fds = new BpfObject?[16];
    private FdMode[] _modes = new FdMode[16];
    private int _open;

    internal BpfProcess(BpfSystem system, int pid, string name)
    {
        System = system;
        Pid = pid;
        Name = name;
    }

    public BpfSystem System { get; }

    public int Pid { get; }

    public string Name { get; }

    /// <summary>Open bpf fds.</summary>
    public int OpenFds => _open;

    /// <summary>Installs a new fd for <paramref name="obj"/>, which must already carry the reference the fd owns.</summary>
    internal int Install(BpfObject obj, FdMode mode = FdMode.ReadWrite)
    {
        int fd = FirstFd;
        while (fd < _fds.Length && _fds[fd] is not null)
        {
            fd++;
        }
        if (fd >= _fds.Length)
        {
            Array.Resize(ref _fds, _fds.Length * 2);
            Array.Resize(ref _modes, _fds.Length);
        }
        _fds[fd] = obj;
        _modes[fd] = mode;
        _open++;
        return fd;
    }

    /// <summary>The object behind <paramref name="fd"/>, or null if the fd is not open.</summary>
    internal BpfObject? Get(int fd) => (uint)fd < (uint)_fds.Length ? _fds[fd] : null;

    /// <summary>Removes <paramref name="fd"/> from the table and returns what it held.</summary>
    internal BpfObject? Remove(int fd)
    {
        var obj = Get(fd);
        if (obj is not null)
        {
            _fds[fd] = null;
            _open--;
        }
        return obj;
    }

    /// <summary>Open fds in ascending order, for process exit.</summary>
    internal IEnumerable<int> Fds()
    {
        for (int fd = 0; fd < _fds.Length; fd++)
        {
            if (_fds[fd] is not null)
            {
                yield return fd;
            }
        }
    }

    /// <summary>What the fd was opened for.</summary>
    internal FdMode Mode(int fd) => (uint)fd < (uint)_fds.Length ? _modes[fd] : FdMode.None;

    /// <summary>Resolves a map fd (__bpf_map_get): EBADF if not open, EINVAL if not a map.</summary>
    internal BpfResult TryGetMap(int fd, out BpfMap map)
    {
        map = null!;
        switch (Get(fd))
        {
            case null:
                return BpfResult.Fail(Errno.EBADF, "fd is not open");
            case BpfMap m:
                map = m;
                return BpfResult.Ok;
            default:
                return BpfResult.Fail(Errno.EINVAL, "fd does not refer to a map");
        }
    }
}
