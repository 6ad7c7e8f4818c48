using System.Runtime.InteropServices;

namespace BpfSim.Tcp.Stack;

/// <summary><c>struct minmax_sample</c> (include/linux/win_minmax.h): one measurement and when it was taken.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MinmaxSample
{
    /// <summary>t: when the measurement was taken, in the filter's time unit (jiffies, rounds, ...).</summary>
    public uint T;

    /// <summary>v: the value measured.</summary>
    public uint V;
}
