using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace BpfSim.Tcp.Net;

/// <summary>Cache hints for a managed object's first lines, where the object is known only by its reference.</summary>
internal static class ObjectPrefetch
{
    /// <summary>
    /// Asks the caches for the first <paramref name="lines"/> 64-byte lines of <paramref name="obj"/> (its header
    /// included). A hint: the object may move before the lines arrive, which costs nothing but the hint.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Lines(object obj, int lines)
    {
        if (!Sse.IsSupported)
        {
            return;
        }
        byte* p = *(byte**)Unsafe.AsPointer(ref obj);
        for (int i = 0; i < lines; i++)
        {
            Sse.Prefetch0(p + (i * 64));
        }
    }

    /// <summary>
    /// Asks the caches for every 64-byte line that bytes [<paramref name="from"/>, <paramref name="to"/>) of
    /// <paramref name="obj"/> touch, counted from its header; nothing for an empty range. A hint, as <see cref="Lines"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Range(object obj, int from, int to)
    {
        if (!Sse.IsSupported || to <= from)
        {
            return;
        }
        byte* start = *(byte**)Unsafe.AsPointer(ref obj);
        byte* end = start + to;
        for (byte* p = (byte*)((nuint)(start + from) & ~(nuint)63); p < end; p += 64)
        {
            Sse.Prefetch0(p);
        }
    }
}
