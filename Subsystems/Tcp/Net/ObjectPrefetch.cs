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
}
