using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Tcp.Net;

/// <summary>
/// The lines of an object a handler reads first: up to two byte ranges of it, counted from the object's header (the
/// address a reference holds), each asked for line by line. A TCP endpoint's are its connection's references and the
/// state of its own end (<c>TcpConnection.HotLines</c>), which are apart from the other end's.
/// </summary>
public readonly struct HotLines
{
    private readonly object? _target;
    private readonly ushort _firstFrom;
    private readonly ushort _firstTo;
    private readonly ushort _secondFrom;
    private readonly ushort _secondTo;

    /// <summary>Bytes [<paramref name="firstFrom"/>, <paramref name="firstTo"/>) and [<paramref name="secondFrom"/>, <paramref name="secondTo"/>) of <paramref name="target"/>; an empty range is skipped.</summary>
    public HotLines(object target, int firstFrom, int firstTo, int secondFrom = 0, int secondTo = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (int b in (ReadOnlySpan<int>)[firstFrom, firstTo, secondFrom, secondTo])
        {
            ArgumentOutOfRangeException.ThrowIfNegative(b);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(b, ushort.MaxValue);
        }
        _target = target;
        (_firstFrom, _firstTo, _secondFrom, _secondTo) = ((ushort)firstFrom, (ushort)firstTo, (ushort)secondFrom, (ushort)secondTo);
    }

    /// <summary>The object, or null for none.</summary>
    public object? Target => _target;

    /// <summary>The two byte ranges, from the object's header.</summary>
    internal ((int From, int To) First, (int From, int To) Second) Ranges => ((_firstFrom, _firstTo), (_secondFrom, _secondTo));

    /// <summary>Asks the caches for every line the two ranges touch. A hint: nothing changes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch()
    {
        if (_target is { } target)
        {
            ObjectPrefetch.Range(target, _firstFrom, _firstTo);
            ObjectPrefetch.Range(target, _secondFrom, _secondTo);
        }
    }
}
